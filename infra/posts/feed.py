"""The community feed's entries: one per list a post is on (everything, its platform, each tag), written
in the transaction that approves or edits it and deleted in the one that rejects or removes it."""
from __future__ import annotations

from infra import keys
from infra.posts.items import FeedEntry, PostItem
from infra.transaction import Transaction

ALL = "ALL"


def scopes(platform: str, tags: list[str]) -> list[str]:
    return [ALL, f"P:{platform}", *[f"T:{t}" for t in tags]]


def entry_keys(tenant: str, post: PostItem, approved_at: str, tags: list[str] | None = None) -> list[list[str]]:
    sk = f"{approved_at}#{post.post_id}"
    return [[keys.feed_pk(tenant, s), sk] for s in scopes(post.platform, list(post.tags if tags is None else tags))]


def put_entries(tx: Transaction, post: PostItem, where: list[list[str]], approved_at: str, **changed: object) -> None:
    """The feed as `post` shows it (with `changed` fields applied), at `where`."""
    shown = {"caption": post.caption, "tags": list(post.tags), "media_urls": list(post.media_urls),
             "display_name": post.display_name, **changed}
    for i, (pk, sk) in enumerate(where):
        tx.put(f"feed-{i}", FeedEntry(pk, sk, post_id=post.post_id, platform=post.platform, url=post.url,
                                      caption=shown["caption"], tags=shown["tags"], media_urls=shown["media_urls"],
                                      display_name=shown["display_name"], unboxing=bool(post.unboxing),
                                      approved_at=approved_at))


def delete_entries(tx: Transaction, where: list[list[str]]) -> None:
    for i, (pk, sk) in enumerate(where):
        tx.delete(f"unfeed-{i}", FeedEntry(pk, sk))
