"""Members' posts under concurrency, against DynamoDB Local with real threads: one link is one post however
many members paste it at once, and one post approved by several moderators at once is credited once."""
from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timezone

from domain.errors import ErrorCode, UserError
from domain.members import Enrollment
from domain.posts.rules import check_submission
from domain.posts.settings import PostSettings
from domain.posts.urls import Platform, url_key
from infra import keys
from infra.events.model import Env, Event
from infra.items import OutboxEvent, TableItem, read_partition
from infra.members import Members
from infra.points.items import LedgerEntry, OrderRecord
from infra.points.program_store import ProgramStore
from infra.posts.desk import Moderator, PostDesk
from infra.posts.items import PostItem, PostUrlClaim, UnboxInvite
from infra.posts.listener import LISTENER
from infra.posts.store import Posts
from tests.support import all_at_once, new_tenant

NOW = datetime(2027, 6, 1, 9, tzinfo=timezone.utc)


def _split_at_once(calls) -> tuple[list, list[BaseException]]:
    """What the calls run at once returned, and what they raised."""
    out = all_at_once(calls)
    return [r for r in out if not isinstance(r, BaseException)], [r for r in out if isinstance(r, BaseException)]


def program_with_posts(services, points: int = 80) -> tuple[str, ProgramStore, PostDesk]:
    tenant = new_tenant()
    store = ProgramStore(tenant, services.programs)
    store.save_program(replace(store.program(), posts=PostSettings(enabled=True, points_per_post=points)), "test", NOW)
    return tenant, store, PostDesk(tenant, store, Posts(tenant, store))


def enroll(tenant: str, n: int) -> list[str]:
    members = Members(tenant)
    ids = [f"m-{i}" for i in range(n)]
    for m in ids:
        members.enroll(m, Enrollment(m, f"{m}@example.com", None, False), NOW.isoformat(), int(NOW.timestamp()))
    return ids


def items(tenant: str, member_id: str, kind: type) -> list:
    return [i for i in read_partition(keys.member_pk(tenant, member_id)) if isinstance(i, kind)]


def test_one_video_pasted_in_four_forms_by_four_members_at_once_is_one_post_and_one_reward(services):
    tenant, _store, desk = program_with_posts(services)
    members = enroll(tenant, 4)
    forms = ["https://youtu.be/dQw4w9WgXcQ?si=a1", "https://www.youtube.com/watch?v=dQw4w9WgXcQ&feature=share",
             "https://youtube.com/shorts/dQw4w9WgXcQ", "https://m.youtube.com/watch?v=dQw4w9WgXcQ#t=9"]
    subs = [check_submission(Platform.YOUTUBE, f, "mine", None, None, None, None) for f in forms]
    results, errors = _split_at_once([lambda m=m, s=s: desk.submit(m, s, NOW) for m, s in zip(members, subs)])
    assert len(results) == 1, errors
    assert len(errors) == 3 and all(isinstance(e, UserError) and e.code is ErrorCode.DUPLICATE_POST for e in errors)
    posts = [p for m in members for p in items(tenant, m, PostItem)]
    assert len(posts) == 1 and posts[0].url == "https://youtube.com/watch?v=dQw4w9WgXcQ"
    desk.approve(posts[0].post_id, Moderator("staff:mod", subject="mod"), NOW)
    credits = [e for m in members for e in items(tenant, m, LedgerEntry)]
    assert [(e.member_id, int(e.points)) for e in credits] == [(posts[0].member_id, 80)]
    claims = list(PostUrlClaim.query(keys.post_url_pk(tenant, url_key(posts[0].url))))
    assert len(claims) == 1 and claims[0].post_id == posts[0].post_id


def test_four_moderators_approving_one_post_at_once_credit_it_once_and_announce_it_once(services):
    tenant, _store, desk = program_with_posts(services)
    (member,) = enroll(tenant, 1)
    sub = check_submission(Platform.INSTAGRAM, "https://instagram.com/p/race1", "", None, None, None, None)
    post = desk.submit(member, sub, NOW)
    mods = [Moderator(f"staff:mod-{i}", subject=f"mod-{i}") for i in range(4)]
    results, errors = _split_at_once([lambda who=who: desk.approve(post.post_id, who, NOW) for who in mods])
    assert len(results) == 1, errors
    assert len(errors) == 3 and all(isinstance(e, UserError) and e.code is ErrorCode.INVALID_STATE for e in errors)
    credits = items(tenant, member, LedgerEntry)
    assert [int(e.points) for e in credits] == [80]
    approved = [o for o in items(tenant, member, OutboxEvent) if o.event_type == "post.approved"]
    assert len(approved) == 1
    profile = Members(tenant).get(member)
    assert profile is not None and profile.points.available == 80
    audit = [a for a in TableItem.query(keys.audit_pk(tenant)) if getattr(a, "action", "") == "post.approve"]
    assert len(audit) == 1


def test_an_order_delivered_event_invites_once_however_often_it_comes_and_never_over_a_post(services):
    tenant, store, desk = program_with_posts(services)
    (member,) = enroll(tenant, 1)
    env = Env(now=NOW, programs=lambda t: ProgramStore(t, services.programs))

    def delivered(order_id: str, event_id: str) -> Event:
        return Event(tenant, member, event_id, "order.delivered", NOW,
                     {"memberId": member, "orderId": order_id, "deliveredAt": NOW.isoformat()})

    _split_at_once([lambda: LISTENER.handle(delivered("o-1", "01EVENTA"), env) for _ in range(4)])
    LISTENER.handle(delivered("o-1", "01EVENTB"), env)  # the same delivery told again
    invites = items(tenant, member, UnboxInvite)
    assert [(i.order_id, i.state) for i in invites] == [("o-1", "INVITED")]
    told = [o for o in items(tenant, member, OutboxEvent) if o.event_type == "post.unboxing_invited"]
    assert len(told) == 1  # the invitation is announced with the invite, so once
    # An order whose post came before its event: the event finds the mark and writes nothing.
    OrderRecord(keys.member_pk(tenant, member), keys.order_sk("o-2"), order_id="o-2", member_id=member,
                ordered_at=NOW.isoformat(), currency="JPY", lines=[], points=0, pending_points=0, status="RELEASED",
                delivered_at=NOW.isoformat(), release_at=NOW.isoformat()).save()
    desk.submit(member, check_submission(Platform.BLOG, "https://b.example/o-2", "", None, None, None, "o-2"), NOW)
    LISTENER.handle(delivered("o-2", "01EVENTC"), env)
    marks = {i.order_id: i.state for i in items(tenant, member, UnboxInvite)}
    assert marks == {"o-1": "INVITED", "o-2": "POSTED"}
    assert [i.order_id for i in Posts(tenant, store).invites(member, NOW)] == ["o-1"]
