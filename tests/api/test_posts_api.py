"""Members' posts end to end: submit (checked, normalised, one claim per link), moderation with points in the
same transaction, holds and the release job, removal and debt, gifts, auto-approval, the public feed, the
queue, unboxing invites, and who may do what."""
from __future__ import annotations

import json
import uuid
from datetime import timedelta
from typing import Any, Iterator

import pytest

from infra import keys
from infra.items import TableItem, read_partition
from infra.points.items import LedgerEntry, RewardItem
from infra.points.program_store import REWARD_PREFIX
from infra.posts.items import PostItem
from tests.api.points_support import assert_books_balance, books, jobs
from tests.api.test_storefront import Shop, own_tenant
from tests.conftest import enroll

SETTINGS = """mutation S($i: PostSettingsInput!) { postSettingsSet(input: $i) {
  settings { enabled pointsPerPost unboxingPoints holdDays cap period removalPolicy rewardId }
  userErrors { field code message } } }"""
POST_FIELDS = """id postId memberId platform url caption tags displayName orderId unboxing state rejectReason
  removeReason message points rewardStatus rewardNote releaseAt couponCode"""
SUBMIT = """mutation P($platform: PostPlatform!, $url: String!, $caption: String, $orderId: ID, $tags: [String!],
  $mediaUrls: [String!], $displayName: String) {
  postSubmit(platform: $platform, url: $url, caption: $caption, orderId: $orderId, tags: $tags, mediaUrls: $mediaUrls,
             displayName: $displayName) {
    post { %s } member { points { available pending debt } } userErrors { field code message } } }""" % POST_FIELDS
APPROVE = """mutation A($p: ID!, $r: String) { postApprove(postId: $p, reason: $r) {
  post { %s } member { points { available pending debt } } userErrors { field code message } } }""" % POST_FIELDS
REJECT = """mutation R($p: ID!, $why: PostRejectReason!, $m: String) { postReject(postId: $p, reason: $why, message: $m) {
  post { %s } userErrors { field code message } } }""" % POST_FIELDS
REMOVE = """mutation X($p: ID!) { postRemove(postId: $p, reason: GUIDELINES, message: "Taken down") {
  post { %s } userErrors { field code message } } }""" % POST_FIELDS
DELETE = """mutation D($p: ID!) { postDelete(postId: $p) { post { %s } userErrors { field code message } } }""" % POST_FIELDS
EDIT = """mutation E($p: ID!, $i: PostEditInput!) { postEdit(postId: $p, input: $i) {
  post { %s } userErrors { field code message } } }""" % POST_FIELDS
FEED = """query F($f: Int, $a: String, $platform: PostPlatform, $tag: String) {
  communityFeed(first: $f, after: $a, platform: $platform, tag: $tag) {
    edges { cursor node { id postId platform url caption tags mediaUrls author unboxing approvedAt } }
    pageInfo { hasNextPage hasPreviousPage startCursor endCursor } } }"""
QUEUE = """query Q($f: Int, $a: String, $platform: PostPlatform, $before: DateTime, $after: DateTime) {
  moderationQueue(first: $f, after: $a, platform: $platform, submittedBefore: $before, submittedAfter: $after) {
    edges { cursor node { postId memberId orderId url caption platform } }
    pageInfo { hasNextPage hasPreviousPage startCursor endCursor } } }"""
MY_POSTS = """query M($f: Int, $a: String) { me { posts(first: $f, after: $a) {
  edges { cursor node { postId state rejectReason message points rewardStatus } }
  pageInfo { hasNextPage hasPreviousPage startCursor endCursor } } } }"""
ADJUST = """mutation($m: ID!, $p: Int!) { pointsAdjust(memberId: $m, points: $p, reason: "spend") { userErrors { code } } }"""
ORDER = """mutation($i: OrderInput!) { orderRecord(input: $i) { userErrors { field code } } }"""


@pytest.fixture
def shop(dynamodb_endpoint, table_name, services, idp) -> Iterator[Shop]:
    del services
    yield from own_tenant(dynamodb_endpoint, table_name, idp)


def mid(client) -> str:
    return client.ok("{ me { memberId } }")["me"]["memberId"]


def enable(shop: Shop, **settings: Any) -> dict:
    out = shop.admin.ok(SETTINGS, {"i": {"enabled": True, **settings}})["postSettingsSet"]
    assert out["userErrors"] == [], out
    return out["settings"]


def moderator(shop: Shop, name: str = "mod") -> Any:
    return shop.anonymous.as_(shop.idp.staff_token(f"{name}-{uuid.uuid4().hex[:6]}", "kizuna-moderators"))


def submit(client, url: str, platform: str = "INSTAGRAM", **extra: Any) -> dict:
    return client.ok(SUBMIT, {"platform": platform, "url": url, "caption": "Loving it", **extra})["postSubmit"]


def submitted(client, url: str | None = None, **extra: Any) -> dict:
    out = submit(client, url or f"https://www.instagram.com/p/{uuid.uuid4().hex[:10]}/", **extra)
    assert out["userErrors"] == [], out
    return out["post"]


def approve(mod, post_id: str) -> dict:
    out = mod.ok(APPROVE, {"p": post_id})["postApprove"]
    assert out["userErrors"] == [], out
    return out


def member_items(shop: Shop, member_id: str, prefix: str) -> list[TableItem]:
    return read_partition(keys.member_pk(shop.tenant, member_id), TableItem.SK.startswith(prefix))


def entries(shop: Shop, member_id: str) -> list[LedgerEntry]:
    return [e for e in member_items(shop, member_id, keys.LEDGER_PREFIX) if isinstance(e, LedgerEntry)]


def outbox(shop: Shop, member_id: str, event_type: str) -> list[dict]:
    return [json.loads(i.detail) if isinstance(i.detail, str) else i.detail
            for i in member_items(shop, member_id, keys.OUTBOX_PREFIX) if i.event_type == event_type]


def delivered_order(shop: Shop, member_id: str, order_id: str, delivered: bool = True) -> None:
    out = shop.service.ok(ORDER, {"i": {
        "orderId": order_id, "memberId": member_id, "currency": "JPY", "orderedAt": shop.now.isoformat(),
        "lines": [{"id": "1", "quantity": 1, "price": "3000", "sku": "A", "category": "home"}],
        "subtotal": "3000", "total": "3000",
        **({"deliveredAt": (shop.now - timedelta(hours=1)).isoformat()} if delivered else {})}})
    assert out["orderRecord"]["userErrors"] == [], out


# -- submitting ------------------------------------------------------------------------------------------
def test_a_submitted_post_is_pending_with_its_link_normalised_and_waits_in_the_queue(shop):
    enable(shop, pointsPerPost=50)
    member = shop.member()
    post = submitted(member, "https://www.instagram.com/p/CxAbC1/?igshid=zz&utm_source=ig", tags=["#Unboxing", "skin"],
                     displayName="Aiko")
    assert post["state"] == "PENDING" and post["url"] == "https://instagram.com/p/CxAbC1"
    assert post["tags"] == ["unboxing", "skin"] and post["points"] == 0 and post["rewardStatus"] == "NONE"
    queue = moderator(shop).ok(QUEUE, {"f": 10})["moderationQueue"]["edges"]
    assert [e["node"]["postId"] for e in queue] == [post["postId"]]
    assert queue[0]["node"]["memberId"] == mid(member) and queue[0]["node"]["caption"] == "Loving it"


def test_posts_are_refused_while_the_program_has_them_switched_off(shop):
    out = submit(shop.member(), "https://instagram.com/p/off1")
    assert [e["code"] for e in out["userErrors"]] == ["NOT_AVAILABLE"]
    assert shop.anonymous.ok(FEED, {"f": 5})["communityFeed"] is None


@pytest.mark.parametrize("url", ["javascript:alert(1)", "data:text/html,<b>x</b>", "http://instagram.com/p/abc",
                                 "https://user:pw@instagram.com/p/abc", "https://instagram.com:8080/p/abc",
                                 "https://evil.example/p/abc"])
def test_unsafe_links_are_typed_errors_and_nothing_is_written(shop, url):
    enable(shop, pointsPerPost=50)
    member = shop.member()
    out = submit(member, url)
    assert out["post"] is None and [(e["field"], e["code"]) for e in out["userErrors"]] == [("url", "INVALID")]
    assert member_items(shop, mid(member), keys.POST_PREFIX) == []


def test_every_problem_of_a_submission_comes_back_at_once_and_nothing_is_written(shop):
    enable(shop, pointsPerPost=50)
    member = shop.member()
    out = member.ok(SUBMIT, {"platform": "TIKTOK", "url": "javascript:alert(1)", "caption": "x\x07",
                             "tags": ["ok", "no spaces!", *[f"t{i}" for i in range(10)]],
                             "mediaUrls": ["http://img.example/a.jpg"]})["postSubmit"]
    fields = {e["field"]: e["code"] for e in out["userErrors"]}
    assert fields["url"] == "INVALID" and fields["caption"] == "INVALID" and fields["tags"] == "OUT_OF_RANGE"
    assert fields["tags.1"] == "INVALID" and fields["mediaUrls.0"] == "INVALID"
    control = member.ok(SUBMIT, {"platform": "BLOG", "url": "https://blog.example/p", "caption": "hi\x1b[31m"})
    assert [(e["field"], e["code"]) for e in control["postSubmit"]["userErrors"]] == [("caption", "INVALID")]
    assert member_items(shop, mid(member), keys.POST_PREFIX) == []


def test_a_100_kib_caption_is_answered_cleanly_and_writes_nothing(shop):
    enable(shop, pointsPerPost=50)
    member = shop.member()
    r = member(SUBMIT, {"platform": "BLOG", "url": "https://blog.example/big", "caption": "x" * 100 * 1024})
    assert r.status == 413 and r.error_codes() == ["BODY_TOO_LARGE"]
    big = member.ok(SUBMIT, {"platform": "BLOG", "url": "https://blog.example/big", "caption": "x" * 2201})
    assert [(e["field"], e["code"]) for e in big["postSubmit"]["userErrors"]] == [("caption", "TOO_LONG")]
    assert member_items(shop, mid(member), keys.POST_PREFIX) == []


def test_the_same_post_pasted_differently_by_another_member_is_a_duplicate(shop):
    enable(shop, pointsPerPost=50)
    first = submitted(shop.member(), "https://youtu.be/dQw4w9WgXcQ?si=abc", platform="YOUTUBE")
    other = shop.member()
    out = submit(other, "https://m.youtube.com/watch?v=dQw4w9WgXcQ&feature=share", platform="YOUTUBE")
    assert [(e["field"], e["code"]) for e in out["userErrors"]] == [("url", "DUPLICATE_POST")]
    shorts = submit(other, "https://youtube.com/shorts/dQw4w9WgXcQ", platform="YOUTUBE")
    assert [e["code"] for e in shorts["userErrors"]] == ["DUPLICATE_POST"]
    assert first["url"] == "https://youtube.com/watch?v=dQw4w9WgXcQ"
    assert member_items(shop, mid(other), keys.POST_PREFIX) == []


def test_an_unboxing_post_needs_a_delivered_order_of_the_members_own_once_per_order(shop):
    enable(shop, pointsPerPost=20, unboxingPoints=200)
    member, stranger = shop.member(), shop.member()
    delivered_order(shop, mid(member), "o-box-1")
    delivered_order(shop, mid(member), "o-box-2", delivered=False)
    delivered_order(shop, mid(stranger), "o-theirs")
    for order_id, code in (("o-theirs", "NOT_FOUND"), ("o-nope", "NOT_FOUND"), ("o-box-2", "NOT_DELIVERED")):
        out = submit(member, f"https://instagram.com/p/u-{order_id}", orderId=order_id)
        assert [(e["field"], e["code"]) for e in out["userErrors"]] == [("orderId", code)], order_id
    assert member_items(shop, mid(member), keys.POST_PREFIX) == []
    post = submitted(member, orderId="o-box-1")
    assert post["unboxing"] is True and post["orderId"] == "o-box-1"
    again = submit(member, "https://instagram.com/p/u-second", orderId="o-box-1")
    assert [(e["field"], e["code"]) for e in again["userErrors"]] == [("orderId", "DUPLICATE_POST")]
    out = approve(moderator(shop), post["postId"])
    assert out["post"]["points"] == 200 and out["member"]["points"]["available"] == 200
    delivered_order(shop, mid(member), "o-box-late")
    shop.now = shop.now + timedelta(days=31)  # past the 30-day unboxing window
    late = submit(member, "https://instagram.com/p/u-late", orderId="o-box-late")
    assert [(e["field"], e["code"]) for e in late["userErrors"]] == [("orderId", "NOT_AVAILABLE")]
    assert outbox(shop, mid(member), "post.approved")[0]["unboxing"] is True


def test_a_rejected_unboxing_post_gives_its_order_back_and_the_order_is_rewarded_once_whichever_post_wins(shop):
    enable(shop, pointsPerPost=20, unboxingPoints=200)
    member = shop.member()
    mod = moderator(shop)
    delivered_order(shop, mid(member), "o-again")
    first = submitted(member, url="https://instagram.com/p/first-try", orderId="o-again")
    assert mod.ok(REJECT, {"p": first["postId"], "why": "GUIDELINES"})["postReject"]["userErrors"] == []
    second = submitted(member, url="https://instagram.com/p/second-try", orderId="o-again")  # the order is free again
    assert approve(mod, second["postId"])["post"]["points"] == 200
    # Reversing the first rejection now would reward the order twice: refused, nothing written.
    out = mod.ok(APPROVE, {"p": first["postId"]})["postApprove"]
    assert [(e["field"], e["code"]) for e in out["userErrors"]] == [("postId", "DUPLICATE_POST")]
    assert [e.points for e in entries(shop, mid(member)) if (e.source or "").startswith("post:")] == [200]
    # A post withdrawn before a decision gives its order back too.
    delivered_order(shop, mid(member), "o-withdrawn")
    pending = submitted(member, url="https://instagram.com/p/withdrawn", orderId="o-withdrawn")
    assert member.ok(DELETE, {"p": pending["postId"]})["postDelete"]["userErrors"] == []
    assert submitted(member, url="https://instagram.com/p/withdrawn-2", orderId="o-withdrawn")["unboxing"] is True


# -- approving, with points --------------------------------------------------------------------------------
def test_approval_credits_the_points_once_with_the_event_and_the_audit_entry(shop):
    enable(shop, pointsPerPost=50)
    member = shop.member()
    post = submitted(member)
    mod = moderator(shop)
    out = approve(mod, post["postId"])
    assert out["post"]["state"] == "APPROVED" and out["post"]["rewardStatus"] == "CREDITED"
    assert out["member"]["points"]["available"] == 50
    again = mod.ok(APPROVE, {"p": post["postId"]})["postApprove"]
    assert [e["code"] for e in again["userErrors"]] == ["INVALID_STATE"]
    m = mid(member)
    assert [e.points for e in entries(shop, m)] == [50]
    earned = outbox(shop, m, "points.earned")
    assert earned[0]["action"] == "post" and earned[0]["postId"] == post["postId"]
    assert [d["postId"] for d in outbox(shop, m, "post.approved")] == [post["postId"]]
    trail = shop.admin.ok("{ auditTrail(first: 5) { nodes { action actor detail } } }")["auditTrail"]["nodes"]
    assert any(t["action"] == "post.approve" and t["actor"].startswith("staff:mod-") for t in trail)
    assert_books_balance(shop.tenant, m)
    assert queue_ids(shop) == []


def queue_ids(shop: Shop, **variables: Any) -> list[str]:
    return [e["node"]["postId"] for e in moderator(shop).ok(QUEUE, {"f": 50, **variables})["moderationQueue"]["edges"]]


def test_a_rejected_post_tells_the_member_why_and_reversing_decisions_moves_the_points_both_ways(shop):
    enable(shop, pointsPerPost=40)
    member = shop.member()
    mod = moderator(shop)
    post = submitted(member)
    out = mod.ok(REJECT, {"p": post["postId"], "why": "NOT_OUR_PRODUCT", "m": "That is another brand."})["postReject"]
    assert out["post"]["state"] == "REJECTED" and out["post"]["rejectReason"] == "NOT_OUR_PRODUCT"
    mine = member.ok(MY_POSTS, {"f": 5})["me"]["posts"]["edges"][0]["node"]
    assert mine["message"] == "That is another brand." and mine["rejectReason"] == "NOT_OUR_PRODUCT"
    approve(mod, post["postId"])  # the decision reversed: credited now
    out = mod.ok(REJECT, {"p": post["postId"], "why": "GUIDELINES"})["postReject"]
    assert out["post"]["points"] == 0 and out["post"]["rewardStatus"] == "REVERSED"
    again = approve(mod, post["postId"])
    assert again["post"]["points"] == 40 and again["member"]["points"]["available"] == 40
    m = mid(member)
    assert sorted(e.points for e in entries(shop, m)) == [-40, 40, 40]
    assert len(outbox(shop, m, "post.approved")) == 1  # only the first approval counts for badges
    told = sorted((e["reasonCode"], e["pointsTakenBack"], e.get("message")) for e in outbox(shop, m, "post.rejected"))
    assert told == [("GUIDELINES", 40, None), ("NOT_OUR_PRODUCT", 0, "That is another brand.")]
    assert_books_balance(shop.tenant, m)


def test_removing_an_approved_post_after_its_points_were_spent_leaves_debt_and_the_books_balance(shop):
    enable(shop, pointsPerPost=100)
    member = shop.member()
    post = submitted(member)
    approve(moderator(shop), post["postId"])
    m = mid(member)
    assert shop.admin.ok(ADJUST, {"m": m, "p": -70})["pointsAdjust"]["userErrors"] == []
    out = moderator(shop).ok(REMOVE, {"p": post["postId"]})["postRemove"]
    assert out["post"]["state"] == "REMOVED" and out["post"]["removeReason"] == "GUIDELINES"
    points = member.ok("{ me { points { available pending debt } } }")["me"]["points"]
    assert points == {"available": 0, "pending": 0, "debt": 70}
    assert_books_balance(shop.tenant, m)
    assert shop.anonymous.ok(FEED, {"f": 5})["communityFeed"]["edges"] == []


def test_under_the_keep_policy_a_removed_post_keeps_its_points(shop):
    enable(shop, pointsPerPost=30, removalPolicy="KEEP")
    member = shop.member()
    post = submitted(member)
    approve(moderator(shop), post["postId"])
    out = member.ok(DELETE, {"p": post["postId"]})["postDelete"]
    assert out["post"]["rewardStatus"] == "KEPT" and out["post"]["removeReason"] == "DELETED_BY_MEMBER"
    assert member.ok("{ me { points { available } } }")["me"]["points"]["available"] == 30


def test_a_post_approved_over_the_members_cap_is_approved_without_points_and_says_so(shop):
    enable(shop, pointsPerPost=10, cap=2, period="MONTH")
    member = shop.member()
    mod = moderator(shop)
    results = [approve(mod, submitted(member)["postId"])["post"] for _ in range(3)]
    assert [p["points"] for p in results] == [10, 10, 0]
    assert results[2]["rewardStatus"] == "CAPPED" and "limit of 2" in results[2]["rewardNote"]
    mod.ok(REJECT, {"p": results[0]["postId"], "why": "GUIDELINES"})  # no longer rewarded: its place under the cap is free
    assert approve(mod, submitted(member)["postId"])["post"]["points"] == 10
    assert approve(mod, submitted(member)["postId"])["post"]["rewardStatus"] == "CAPPED"
    shop.now = shop.now + timedelta(days=40)  # the next month on the program's calendar
    assert approve(mod, submitted(member)["postId"])["post"]["points"] == 10
    assert_books_balance(shop.tenant, mid(member))


def test_a_catalog_reward_is_given_as_a_coupon_costing_nothing_with_the_approval(shop):
    shop.reward("thank-you", 500, stockTotal=5)
    enable(shop, pointsPerPost=0, rewardId="thank-you")
    member = shop.member()
    post = approve(moderator(shop), submitted(member)["postId"])["post"]
    assert post["couponCode"] and post["points"] == 0 and post["rewardStatus"] == "NO_POINTS"
    mine = member.ok("{ me { points { available } redemptions(first: 5) { nodes { code points reward { rewardId } } } } }")
    assert mine["me"]["redemptions"]["nodes"] == [{"code": post["couponCode"], "points": 0,
                                                   "reward": {"rewardId": "thank-you"}}]
    assert mine["me"]["points"]["available"] == 0
    stock = RewardItem.get(keys.program_pk(shop.tenant), f"{REWARD_PREFIX}thank-you", consistent_read=True)
    assert (stock.stock_left, stock.redeemed) == (4, 1)
    unknown = shop.admin.ok(SETTINGS, {"i": {"rewardId": "no-such"}})["postSettingsSet"]["userErrors"]
    assert [(e["field"], e["code"]) for e in unknown] == [("rewardId", "NOT_FOUND")]


def test_a_gift_coupon_goes_back_with_a_rejected_post_while_unused_and_a_used_one_stays_used(shop):
    shop.reward("thank-you", 500, stockTotal=5)
    enable(shop, pointsPerPost=10, rewardId="thank-you")
    mod = moderator(shop)
    member = shop.member()
    first = approve(mod, submitted(member)["postId"])["post"]
    second = approve(mod, submitted(member)["postId"])["post"]
    used = shop.service.ok('mutation { couponConsume(code: "%s", orderId: "o-gift") { userErrors { code } } }'
                           % second["couponCode"])["couponConsume"]
    assert used["userErrors"] == []
    out = mod.ok(REJECT, {"p": first["postId"], "why": "GUIDELINES"})["postReject"]
    assert out["userErrors"] == [] and out["post"]["couponCode"] is None
    assert mod.ok(REMOVE, {"p": second["postId"]})["postRemove"]["userErrors"] == []
    codes = {n["code"]: n["status"] for n in member.ok("{ me { redemptions(first: 5) { nodes { code status } } } }")[
        "me"]["redemptions"]["nodes"]}
    assert codes == {first["couponCode"]: "CANCELLED", second["couponCode"]: "CONSUMED"}
    stock = RewardItem.get(keys.program_pk(shop.tenant), f"{REWARD_PREFIX}thank-you", consistent_read=True)
    assert (stock.stock_left, stock.redeemed) == (4, 1)  # the unused one is back in stock
    again = approve(mod, first["postId"])["post"]  # the decision reversed again: a new gift with the points
    assert again["couponCode"] not in (None, first["couponCode"]) and again["points"] == 10


# -- holds and the release job ------------------------------------------------------------------------------
def ledger_identity(shop: Shop, member_id: str) -> dict:
    b = books(shop.tenant, member_id)
    assert b["ledger"] == b["available"] + b["pending"] - b["debt"], b
    assert min(b["available"], b["pending"], b["debt"]) >= 0, b
    return b


def test_held_points_are_pending_until_the_release_job_releases_them(shop):
    enable(shop, pointsPerPost=60, holdDays=7)
    member = shop.member()
    out = approve(moderator(shop), submitted(member)["postId"])
    assert out["post"]["rewardStatus"] == "HELD" and out["post"]["releaseAt"]
    assert out["member"]["points"] == {"available": 0, "pending": 60, "debt": 0}
    m = mid(member)
    early = jobs(shop.api.services, shop.tenant).release_due(shop.now + timedelta(days=6))
    assert early.processed == 0
    report = jobs(shop.api.services, shop.tenant).release_due(shop.now + timedelta(days=7, minutes=1))
    assert report.processed == 1 and report.points == 60 and report.failed == 0
    assert member.ok("{ me { points { available pending debt } } }")["me"]["points"] == {
        "available": 60, "pending": 0, "debt": 0}
    assert member.ok(MY_POSTS, {"f": 1})["me"]["posts"]["edges"][0]["node"]["rewardStatus"] == "CREDITED"
    assert {e.status for e in entries(shop, m)} == {"POSTED"}
    again = jobs(shop.api.services, shop.tenant).release_due(shop.now + timedelta(days=8))
    assert again.processed == 0
    ledger_identity(shop, m)


def test_deleting_a_held_post_before_release_forfeits_the_pending_points_without_debt(shop):
    enable(shop, pointsPerPost=60, holdDays=7)
    member = shop.member()
    post = submitted(member)
    approve(moderator(shop), post["postId"])
    out = member.ok(DELETE, {"p": post["postId"]})["postDelete"]
    assert out["post"]["state"] == "REMOVED" and out["post"]["rewardStatus"] == "FORFEITED"
    assert member.ok("{ me { points { available pending debt } } }")["me"]["points"] == {
        "available": 0, "pending": 0, "debt": 0}
    report = jobs(shop.api.services, shop.tenant).release_due(shop.now + timedelta(days=30))
    assert report.processed == 0 and report.failed == 0
    ledger_identity(shop, mid(member))


# -- editing ------------------------------------------------------------------------------------------------
def test_editing_an_approved_post_updates_its_feed_entries_and_never_rewards_again(shop):
    enable(shop, pointsPerPost=25)
    member = shop.member()
    post = submitted(member, tags=["skin"], displayName="Aiko")
    approve(moderator(shop), post["postId"])
    out = member.ok(EDIT, {"p": post["postId"], "i": {"caption": "Even better", "tags": ["hair"],
                                                      "displayName": None}})["postEdit"]
    assert out["userErrors"] == [] and out["post"]["caption"] == "Even better" and out["post"]["displayName"] is None
    node = shop.anonymous.ok(FEED, {"f": 5})["communityFeed"]["edges"][0]["node"]
    assert node["caption"] == "Even better" and node["tags"] == ["hair"] and node["author"] is None
    assert shop.anonymous.ok(FEED, {"f": 5, "tag": "skin"})["communityFeed"]["edges"] == []
    assert len(shop.anonymous.ok(FEED, {"f": 5, "tag": "hair"})["communityFeed"]["edges"]) == 1
    assert [e.points for e in entries(shop, mid(member))] == [25]
    other = shop.member()
    stranger = other.ok(EDIT, {"p": post["postId"], "i": {"caption": "mine now"}})["postEdit"]
    assert [e["code"] for e in stranger["userErrors"]] == ["NOT_FOUND"]


# -- the feed -----------------------------------------------------------------------------------------------
def feed_world(shop: Shop) -> list[dict]:
    enable(shop, pointsPerPost=5)
    mod = moderator(shop)
    named, anonymous = shop.member(), shop.member()
    made = []
    for i, (client, platform, url, tags) in enumerate([
            (named, "INSTAGRAM", "https://instagram.com/p/feed-a", ["skin"]),
            (anonymous, "TIKTOK", "https://tiktok.com/@x/video/123", ["hair"]),
            (named, "INSTAGRAM", "https://instagram.com/p/feed-c", ["skin", "hair"])]):
        post = submitted(client, url, platform=platform, tags=tags,
                         **({"displayName": "Aiko"} if client is named else {}))
        shop.now = shop.now + timedelta(minutes=1)
        approve(mod, post["postId"])
        made.append(post)
    submitted(named, "https://instagram.com/p/feed-pending")  # not approved: not in the feed
    return made


def test_the_feed_is_public_newest_first_filtered_by_platform_or_tag_and_never_shows_who_posted(shop):
    a, b, c = feed_world(shop)
    everything = shop.anonymous.ok(FEED, {"f": 10})["communityFeed"]
    assert [e["node"]["postId"] for e in everything["edges"]] == [c["postId"], b["postId"], a["postId"]]
    assert [e["node"]["author"] for e in everything["edges"]] == ["Aiko", None, "Aiko"]
    insta = shop.anonymous.ok(FEED, {"f": 10, "platform": "INSTAGRAM"})["communityFeed"]["edges"]
    assert [e["node"]["postId"] for e in insta] == [c["postId"], a["postId"]]
    hair = shop.anonymous.ok(FEED, {"f": 10, "tag": "#Hair"})["communityFeed"]["edges"]
    assert [e["node"]["postId"] for e in hair] == [c["postId"], b["postId"]]
    text = json.dumps(everything)
    for post in (a, b, c):
        assert post["memberId"] not in text
    assert "@example.com" not in text and "memberId" not in text
    both = shop.anonymous(FEED, {"f": 10, "tag": "hair", "platform": "TIKTOK"})
    assert both.error_codes() == ["BAD_USER_INPUT"]


def test_a_feed_page_ending_exactly_at_the_end_says_there_is_no_next_page(shop):
    feed_world(shop)
    query = "query($f: Int, $a: String) { communityFeed(first: $f, after: $a) { edges { cursor } pageInfo { hasNextPage endCursor } } }"
    whole = shop.anonymous.ok(query, {"f": 3})["communityFeed"]
    assert len(whole["edges"]) == 3 and whole["pageInfo"]["hasNextPage"] is False
    part = shop.anonymous.ok(query, {"f": 2})["communityFeed"]
    assert part["pageInfo"]["hasNextPage"] is True
    rest = shop.anonymous.ok(query, {"f": 2, "a": part["pageInfo"]["endCursor"]})["communityFeed"]
    assert len(rest["edges"]) == 1 and rest["pageInfo"]["hasNextPage"] is False


def test_a_queue_page_ending_exactly_at_the_end_says_there_is_no_next_page_and_filters_hold(shop):
    enable(shop, pointsPerPost=5)
    member = shop.member()
    made = []
    for i in range(3):
        made.append(submitted(member, platform="TIKTOK" if i == 1 else "INSTAGRAM",
                              url=f"https://tiktok.com/@a/video/{i}" if i == 1 else None))
        shop.now = shop.now + timedelta(minutes=10)
    mod = moderator(shop)
    query = "query($f: Int, $a: String) { moderationQueue(first: $f, after: $a) { edges { node { postId } } pageInfo { hasNextPage endCursor } } }"
    whole = mod.ok(query, {"f": 3})["moderationQueue"]
    assert [e["node"]["postId"] for e in whole["edges"]] == [p["postId"] for p in made]  # oldest first
    assert whole["pageInfo"]["hasNextPage"] is False
    part = mod.ok(query, {"f": 2})["moderationQueue"]
    rest = mod.ok(query, {"f": 2, "a": part["pageInfo"]["endCursor"]})["moderationQueue"]
    assert part["pageInfo"]["hasNextPage"] is True and len(rest["edges"]) == 1 and rest["pageInfo"]["hasNextPage"] is False
    assert queue_ids(shop, platform="TIKTOK") == [made[1]["postId"]]
    start = shop.now - timedelta(minutes=30)
    assert queue_ids(shop, after=(start + timedelta(minutes=5)).isoformat()) == [made[1]["postId"], made[2]["postId"]]
    assert queue_ids(shop, before=(start + timedelta(minutes=5)).isoformat()) == [made[0]["postId"]]


def test_me_posts_lists_the_members_posts_newest_first_and_a_page_can_end_exactly_at_the_end(shop):
    enable(shop, pointsPerPost=5)
    member = shop.member()
    made = []
    for _ in range(3):
        made.append(submitted(member)["postId"])
        shop.now = shop.now + timedelta(seconds=1)
    query = "query($f: Int, $a: String) { me { posts(first: $f, after: $a) { edges { node { postId } } pageInfo { hasNextPage endCursor } } } }"
    whole = member.ok(query, {"f": 3})["me"]["posts"]
    assert [e["node"]["postId"] for e in whole["edges"]] == made[::-1] and whole["pageInfo"]["hasNextPage"] is False
    part = member.ok(query, {"f": 2})["me"]["posts"]
    rest = member.ok(query, {"f": 2, "a": part["pageInfo"]["endCursor"]})["me"]["posts"]
    assert len(rest["edges"]) == 1 and rest["pageInfo"]["hasNextPage"] is False


# -- who may do what ---------------------------------------------------------------------------------------
def test_members_cannot_moderate_and_staff_cannot_moderate_their_own_posts(shop):
    enable(shop, pointsPerPost=5)
    member = shop.member()
    post = submitted(member)
    assert member(APPROVE, {"p": post["postId"]}).error_codes() == ["FORBIDDEN"]
    assert member(QUEUE, {"f": 5}).error_codes() == ["FORBIDDEN"]
    assert shop.anonymous(QUEUE, {"f": 5}).error_codes() == ["UNAUTHENTICATED"]
    event_staff = shop.anonymous.as_(shop.idp.staff_token("ev", "kizuna-event-staff"))
    assert event_staff(APPROVE, {"p": post["postId"]}).error_codes() == ["FORBIDDEN"]
    # A moderator whose token subject is the author's member id.
    same = shop.anonymous.as_(shop.idp.staff_token(mid(member), "kizuna-moderators"))
    out = same.ok(APPROVE, {"p": post["postId"]})["postApprove"]
    assert [e["code"] for e in out["userErrors"]] == ["SELF_MODERATION"]
    # A moderator whose verified email (the staff token's, as the IdP vouches for it) is the author's.
    email = f"{uuid.uuid4().hex[:8]}@example.com"
    author = shop.anonymous.as_(shop.idp.member_token(f"m-{uuid.uuid4().hex[:8]}", email=email))
    enroll(author, email=email)
    theirs = submitted(author)
    twin = shop.anonymous.as_(shop.idp.staff_token("twin", "kizuna-moderators", email=email.upper()))
    out = twin.ok(APPROVE, {"p": theirs["postId"]})["postApprove"]
    assert [e["code"] for e in out["userErrors"]] == ["SELF_MODERATION"]
    assert member_items(shop, mid(member), keys.LEDGER_PREFIX) == []
    assert member_items(shop, mid(author), keys.LEDGER_PREFIX) == []


def test_a_member_reading_another_members_post_finds_nothing(shop):
    enable(shop, pointsPerPost=5)
    post = submitted(shop.member())
    node = "query($id: ID!) { node(id: $id) { ... on Post { postId } } }"
    assert shop.member().ok(node, {"id": post["id"]}) == {"node": None}
    assert moderator(shop).ok(node, {"id": post["id"]}) == {"node": {"postId": post["postId"]}}
    delete = shop.member().ok(DELETE, {"p": post["postId"]})["postDelete"]
    assert [e["code"] for e in delete["userErrors"]] == ["NOT_FOUND"]


def test_settings_are_set_by_admins_with_every_problem_at_once_and_read_by_staff(shop):
    out = shop.admin.ok(SETTINGS, {"i": {"pointsPerPost": -1, "holdDays": 999, "cap": 0,
                                         "unboxingWindowDays": 0}})["postSettingsSet"]
    assert {e["field"] for e in out["userErrors"]} == {"pointsPerPost", "holdDays", "cap", "unboxingWindowDays"}
    enable(shop, pointsPerPost=5, cap=3, period="WEEK")
    view = moderator(shop).ok("{ postSettings { enabled pointsPerPost cap period removalPolicy } }")["postSettings"]
    assert view == {"enabled": True, "pointsPerPost": 5, "cap": 3, "period": "WEEK", "removalPolicy": "CLAW_BACK"}
    assert moderator(shop)(SETTINGS, {"i": {"enabled": False}}).error_codes() == ["FORBIDDEN"]
    trail = shop.admin.ok("{ auditTrail(first: 3) { nodes { action } } }")["auditTrail"]["nodes"]
    assert trail[0]["action"] == "posts.settings_set"


# -- auto-approval -----------------------------------------------------------------------------------------
def test_members_with_enough_approved_posts_and_no_recent_rejection_are_approved_at_once(shop):
    enable(shop, pointsPerPost=5, autoApproveAfterPosts=2, autoApproveCleanDays=30)
    member = shop.member()
    mod = moderator(shop)
    for _ in range(2):
        approve(mod, submitted(member)["postId"])
    shop.now = shop.now + timedelta(seconds=1)
    auto = submitted(member)
    assert auto["state"] == "APPROVED" and auto["points"] == 5
    trail = shop.admin.ok("{ auditTrail(first: 1) { nodes { action actor detail } } }")["auditTrail"]["nodes"]
    assert trail[0]["actor"] == "auto" and trail[0]["action"] == "post.approve"
    assert (json.loads(trail[0]["detail"]) if isinstance(trail[0]["detail"], str) else trail[0]["detail"])["auto"]
    bad = submitted(member)
    assert bad["state"] == "APPROVED"
    mod.ok(REJECT, {"p": bad["postId"], "why": "SPAM"})
    assert submitted(member)["state"] == "PENDING"  # a rejection within 30 days: back to the queue
    shop.now = shop.now + timedelta(days=31)
    assert submitted(member)["state"] == "APPROVED"
    removed = moderator(shop).ok(REMOVE, {"p": auto["postId"]})["postRemove"]
    assert removed["post"]["state"] == "REMOVED"
    assert_books_balance(shop.tenant, mid(member))


def test_members_at_or_above_the_tier_rank_are_approved_at_once(shop):
    assert shop.admin.ok("""mutation { tierLadderSet(input: {tiers: [{id: "base", name: "Base", rank: 1, threshold: "0"},
      {id: "gold", name: "Gold", rank: 2, threshold: "100"}]}) { userErrors { code } } }""")["tierLadderSet"][
        "userErrors"] == []
    enable(shop, pointsPerPost=5, autoApproveMinRank=2)
    member, gold = shop.member(), shop.member()
    out = shop.admin.ok("""mutation($m: ID!) { pointsAdjust(memberId: $m, points: 150, reason: "gold", qualifying: true) {
      userErrors { code } } }""", {"m": mid(gold)})
    assert out["pointsAdjust"]["userErrors"] == []
    assert submitted(member)["state"] == "PENDING"
    assert submitted(gold)["state"] == "APPROVED"


# -- unboxing invites ----------------------------------------------------------------------------------------
def test_a_delivered_order_invites_an_unboxing_post_until_one_is_submitted(shop, events):
    enable(shop, pointsPerPost=5, unboxingPoints=100, unboxingWindowDays=14)
    member = shop.member()
    m = mid(member)
    delivered_order(shop, m, "o-inv-1")
    delivered_order(shop, m, "o-inv-2", delivered=False)
    assert shop.service.ok('mutation { orderDeliver(orderId: "o-inv-2", deliveredAt: "%s") { userErrors { code } } }'
                           % shop.now.isoformat())["orderDeliver"]["userErrors"] == []
    events.drain()
    invites = member.ok("{ me { unboxingInvites { orderId closesAt } } }")["me"]["unboxingInvites"]
    assert sorted(i["orderId"] for i in invites) == ["o-inv-1", "o-inv-2"]
    submitted(member, orderId="o-inv-1")
    assert [i["orderId"] for i in member.ok("{ me { unboxingInvites { orderId } } }")["me"]["unboxingInvites"]] == [
        "o-inv-2"]
    shop.now = shop.now + timedelta(days=15)
    assert member.ok("{ me { unboxingInvites { orderId } } }")["me"]["unboxingInvites"] == []
    assert len(outbox(shop, m, "order.delivered")) == 2
    assert sorted(e["orderId"] for e in outbox(shop, m, "post.unboxing_invited")) == ["o-inv-1", "o-inv-2"]


def test_an_order_delivered_after_its_points_were_released_still_invites_an_unboxing_post(shop, events):
    enable(shop, pointsPerPost=5, unboxingPoints=100, unboxingWindowDays=14)
    member = shop.member()
    m = mid(member)
    delivered_order(shop, m, "o-late", delivered=False)
    shop.now = shop.now + timedelta(days=40)  # past the return window counted from the order date
    assert jobs(shop.api.services, shop.tenant).release_due(shop.now).processed == 1
    out = shop.service.ok('mutation { orderDeliver(orderId: "o-late", deliveredAt: "%s") { outcome userErrors { code } } }'
                          % shop.now.isoformat())["orderDeliver"]
    assert out == {"outcome": "DELIVERY_RECORDED", "userErrors": []}
    events.drain()
    assert [i["orderId"] for i in member.ok("{ me { unboxingInvites { orderId } } }")["me"]["unboxingInvites"]] == [
        "o-late"]
    again = shop.service.ok('mutation { orderDeliver(orderId: "o-late", deliveredAt: "%s") { outcome } }'
                            % shop.now.isoformat())["orderDeliver"]
    assert again["outcome"] == "DUPLICATE" and len(outbox(shop, m, "order.delivered")) == 1


def test_the_post_item_holds_no_more_than_the_post(shop):
    enable(shop, pointsPerPost=5)
    member = shop.member()
    post = submitted(member)
    item = [i for i in member_items(shop, mid(member), keys.POST_PREFIX) if isinstance(i, PostItem)][0]
    assert item.post_id == post["postId"] and item.GSI1PK == keys.post_queue_pk(shop.tenant)
    assert item.GSI2PK == keys.post_queue_pk(shop.tenant, "INSTAGRAM")


# -- what a screen costs -------------------------------------------------------------------------------------
def test_the_feed_and_queue_pages_are_one_dynamodb_call_each_and_a_submission_one_transaction(shop):
    feed_world(shop)
    mod = moderator(shop)
    shop.anonymous.ok(FEED, {"f": 2})  # the program is cached per container: warm it as a running container is
    mod.ok(QUEUE, {"f": 2})
    sent: list[str] = []

    def record(params: dict, model: Any = None, **_: Any) -> None:
        sent.append(model.name)

    events = TableItem._get_connection().connection.client.meta.events
    events.register("before-parameter-build.dynamodb.*", record, unique_id="posts-calls")
    try:
        for variables in ({"f": 2}, {"f": 2, "platform": "INSTAGRAM"}, {"f": 2, "tag": "skin"}):
            sent.clear()
            assert shop.anonymous.ok(FEED, variables)["communityFeed"]["edges"]
            assert sent == ["Query"], (variables, sent)
        for variables in ({"f": 2}, {"f": 2, "platform": "INSTAGRAM"}):
            sent.clear()
            assert mod.ok(QUEUE, variables)["moderationQueue"]["edges"]
            assert sent == ["Query"], (variables, sent)
        member = shop.member()
        sent.clear()
        post = submit(member, "https://instagram.com/p/cost-1")["post"]
        assert sent == ["TransactWriteItems", "Query"], sent  # the post; the payload's member (dashboard)
        sent.clear()
        approve(mod, post["postId"])
        # the post's owner and the post, the decision with its points, the post as it was left, the member
        assert sent == ["GetItem", "GetItem", "TransactWriteItems", "GetItem", "Query"], sent
    finally:
        events.unregister("before-parameter-build.dynamodb.*", unique_id="posts-calls")
