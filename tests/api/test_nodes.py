"""Global ids and `node(id:)`: every cached object has one; one registry; the types' own read rules; no oracle."""
from __future__ import annotations

import base64
import uuid
from datetime import datetime, timedelta, timezone

import pytest
from graphql import GraphQLObjectType, GraphQLList, GraphQLNonNull

from domain.vip_events.model import VipEvent
from infra.events_out.deliveries import Deliveries
from infra.events_out.endpoints import EndpointDesk
from infra.events_out.outlet import Outlet
from infra.points.program_store import ProgramStore
from infra.vip_events.catalog import EventCatalog
from infra.vip_events.registrations import Registrations
from infra.webhooks import WebhookFailures
from resolvers.nodes import MAX_NODES, REGISTRY, global_id
from resolvers.schema import build_schema
from tests.conftest import enroll

NODE = "query N($id: ID!) { node(id: $id) { __typename id } }"
REWARD = """mutation S($input: RewardInput!) { rewardSave(input: $input) { reward { id rewardId } userErrors { code } } }"""
ADJUST = """mutation A($m: ID!, $p: Int!) { pointsAdjust(memberId: $m, points: $p, reason: "nodes") {
  member { memberId points { available } } userErrors { field code } } }"""
REDEEM = """mutation R($r: ID!) { rewardRedeem(rewardId: $r) {
  redemption { id code reward { id } } userErrors { field code } } }"""


def decoded(gid: str) -> str:
    return base64.urlsafe_b64decode(gid + "=" * (-len(gid) % 4)).decode()


@pytest.fixture
def service(client, idp):
    return client.as_(idp.service_token())


LADDER = """mutation { tierLadderSet(input: {tiers: [{id: "node-tier", name: "Nodes", rank: 1, threshold: "0"}]}) {
  userErrors { code } } }"""


@pytest.fixture
def ladder(admin, services, tenant):
    """The shared tenant has a one-tier ladder for this test only."""
    from domain.points.program import DEFAULT_PROGRAM
    from infra.points.program_store import ProgramStore
    store = ProgramStore(tenant, services.programs)
    before = store.program()
    assert admin.ok(LADDER)["tierLadderSet"]["userErrors"] == []
    yield
    store.save_program(before if before is not None else DEFAULT_PROGRAM, "test", datetime.now(timezone.utc), "reset")


@pytest.fixture
def world(admin, enrolled, member_id, service, tenant, ladder, client, idp):
    """One object of every Node type, with its id as its own query field gives it."""
    reward_id = f"r-{uuid.uuid4().hex[:8]}"
    saved = admin.ok(REWARD, {"input": {"id": reward_id, "name": "Nodes", "kind": "CUSTOM", "pointsCost": 5}})
    assert saved["rewardSave"]["userErrors"] == []
    assert admin.ok(ADJUST, {"m": member_id, "p": 50})["pointsAdjust"]["userErrors"] == []
    redemption = enrolled.ok(REDEEM, {"r": reward_id})["rewardRedeem"]["redemption"]
    WebhookFailures(tenant).keep(topic="orders/paid", webhook_id=None, errors=[], body=b"{}",
                                 now=datetime.now(timezone.utc), correlation_id=None)
    me = enrolled.ok("{ me { id points { id } pointsHistory(first: 1) { nodes { id } } } }")["me"]
    staff = admin.ok("""{ program { id } programSummary { id } rewards(first: 100) { nodes { id rewardId } }
                          auditTrail(first: 1) { nodes { id } } webhookFailures(first: 1) { nodes { id } } }""")
    badge = admin.ok('mutation { badgeSave(input: {id: "node-badge", name: "Nodes"}) { badge { id } } }')[
        "badgeSave"]["badge"]
    challenge = admin.ok('mutation { challengeSave(input: {id: "node-ch", name: "Nodes", rewardPoints: 1, '
                         'criterion: {kind: PURCHASES, count: 1}, startsAt: "2020-01-01T00:00:00Z", '
                         'endsAt: "2099-01-01T00:00:00Z"}) { challenge { id } } }')["challengeSave"]["challenge"]
    tiers = enrolled.ok("{ tierLadder { tiers { id } } me { tier { id current { id } } } }")
    assert admin.ok('mutation { postSettingsSet(input: {enabled: true}) { userErrors { code } } }')[
        "postSettingsSet"]["userErrors"] == []  # the ladder fixture puts the program back afterwards
    post = enrolled.ok('mutation { postSubmit(platform: BLOG, url: "https://nodes.example/%s") { post { id postId } } }'
                       % uuid.uuid4().hex[:8])["postSubmit"]["post"]
    admin.ok('mutation($p: ID!) { postApprove(postId: $p) { userErrors { code } } }', {"p": post["postId"]})
    feed_post = client.ok("{ communityFeed(first: 1) { nodes { id } } }")["communityFeed"]["nodes"][0]
    return {
        "Member": (enrolled, me["id"]), "PointsSummary": (enrolled, me["points"]["id"]),
        "PointsEntry": (enrolled, me["pointsHistory"]["nodes"][0]["id"]),
        "Reward": (enrolled, next(r["id"] for r in staff["rewards"]["nodes"] if r["rewardId"] == reward_id)),
        "Redemption": (enrolled, redemption["id"]), "RedeemedReward": (service, redemption["reward"]["id"]),
        "Program": (admin, staff["program"]["id"]), "ProgramSummary": (enrolled, staff["programSummary"]["id"]),
        "AuditRecord": (admin, staff["auditTrail"]["nodes"][0]["id"]),
        "WebhookFailure": (admin, staff["webhookFailures"]["nodes"][0]["id"]),
        "Badge": (enrolled, badge["id"]), "Challenge": (enrolled, challenge["id"]),
        "Tier": (enrolled, tiers["tierLadder"]["tiers"][0]["id"]), "MemberTier": (enrolled, tiers["me"]["tier"]["id"]),
        "Post": (enrolled, post["id"]), "FeedPost": (client, feed_post["id"]),
        **vip_world(enrolled, member_id, tenant, admin),
        **endpoint_world(admin, tenant),
        **partner_world(admin, enrolled, client, idp),
    }


def partner_world(admin, enrolled, client, idp) -> dict:
    """A partner, the member's consent to it and one look-up of the member by it."""
    from tests.api.test_partners_api import GRANT, MINE, REGISTER, STATUS
    slug = f"nodes-{uuid.uuid4().hex[:6]}"
    assert admin.ok(REGISTER, {"input": {"id": slug, "name": "Nodes", "clientId": slug}})["partnerRegister"][
        "userErrors"] == []
    partners = admin.ok("{ partners(first: 50) { nodes { id partnerId } } }")["partners"]["nodes"]
    consent = enrolled.ok(GRANT, {"p": slug, "f": ["tier"]})["partnerConsentGrant"]["consent"]
    partner = client.as_(idp.partner_token(slug))
    assert partner.ok(STATUS, {"ref": {"linkedId": consent["linkedId"]}, "f": ["tier"]})["partnerMemberStatus"]
    lookups = enrolled.ok(MINE)["me"]["partnerLookups"]["nodes"]
    return {"Partner": (admin, next(p["id"] for p in partners if p["partnerId"] == slug)),
            "PartnerConsent": (enrolled, consent["id"]),
            "PartnerLookupRecord": (enrolled, next(n["id"] for n in lookups if n["partnerId"] == slug))}


def endpoint_world(admin, tenant) -> dict:
    """A disabled endpoint (so nothing is ever sent to it) and a delivery to it, dead-lettered for that, as
    the staff lists give their ids."""
    now = datetime.now(timezone.utc)
    made, _ = EndpointDesk(tenant).create("https://nodes.example/hook", (), False, "nodes", "test", now)
    listed = admin.ok("{ webhookEndpoints(first: 20) { nodes { id endpointId } } }")["webhookEndpoints"]["nodes"]
    deliveries = Deliveries(tenant)
    event_id = f"01NODE{uuid.uuid4().hex[:20].upper()}"
    item = deliveries.start(made, {"id": event_id, "type": "PointsEarned", "memberId": "m-nodes"}, now)
    assert item is not None and deliveries.attempt(item, made, Outlet(), now) is not None
    dead = admin.ok("{ webhookDeadLetters(first: 100) { nodes { id eventId } } }")["webhookDeadLetters"]["nodes"]
    return {"WebhookEndpoint": (admin, next(n["id"] for n in listed if n["endpointId"] == made.id)),
            "WebhookDelivery": (admin, next(n["id"] for n in dead if n["eventId"] == event_id))}


def vip_world(enrolled, member_id, tenant, admin) -> dict:
    """A VIP event and the member's ticket for it (registration's own code writes both)."""
    programs = ProgramStore(tenant, admin.api.services.programs)
    now = datetime.now(timezone.utc)
    event = VipEvent(event_id=f"ev-{uuid.uuid4().hex[:8]}", title="Nodes", venue="Here", capacity=5,
                     starts_at=now + timedelta(days=3), ends_at=now + timedelta(days=3, hours=2))
    EventCatalog(tenant, programs).save(event, "test", now, existing=None)
    Registrations(tenant, programs).register(member_id, event.event_id, now)
    ticket = enrolled.ok("{ me { eventTickets(first: 1) { nodes { id event { id } } } } }")["me"]["eventTickets"][
        "nodes"][0]
    return {"EventTicket": (enrolled, ticket["id"]), "VipEvent": (enrolled, ticket["event"]["id"])}


def test_every_node_type_is_fetched_again_by_the_id_its_own_field_gave(world):
    assert set(world) == set(REGISTRY)  # a new Node type is registered here too, or this fails
    for type_name, (caller, gid) in world.items():
        assert caller.ok(NODE, {"id": gid}) == {"node": {"__typename": type_name, "id": gid}}, type_name
        assert decoded(gid).startswith(f"{type_name}:")


def test_global_ids_are_stable_and_never_name_the_tenant(client, idp, other_idp, tenants, member_id):
    in_a = client.as_(idp.member_token(member_id))
    in_b = client.as_(other_idp.member_token(member_id))
    enroll(in_a, name="Aiko of A")
    enroll(in_b, name="Bo of B")
    a = in_a.ok("{ me { id } }")["me"]["id"]
    assert in_a.ok("{ me { id } }")["me"]["id"] == a == global_id("Member", member_id)
    assert all(t not in decoded(a) for t in tenants.values())
    b = in_b.ok("{ me { id } }")["me"]["id"]
    assert b == a  # the same member id in another tenant: the same id, and each tenant answers with its own
    named = "query N($id: ID!) { node(id: $id) { ... on Member { name } } }"
    assert in_a.ok(named, {"id": a}) == {"node": {"name": "Aiko of A"}}
    assert in_b.ok(named, {"id": a}) == {"node": {"name": "Bo of B"}}


def test_what_a_caller_may_not_read_is_null_exactly_as_what_does_not_exist(world, client, idp, service):
    stranger = client.as_(idp.member_token(f"m-{uuid.uuid4().hex[:8]}"))
    enroll(stranger)
    missing = {"Member": global_id("Member", "m-nobody"), "Redemption": global_id("Redemption", "KZ-NOSUCHCODE"),
               "PointsEntry": global_id("PointsEntry", "01ARZ3NDEKTSV4RRFFQ69G5FAV:m-nobody")}
    nothing = {name: stranger(NODE, {"id": gid}).body for name, gid in missing.items()}
    assert all(body == {"data": {"node": None}} for body in nothing.values()), nothing
    for type_name in ("Member", "PointsSummary", "PointsEntry", "Redemption", "RedeemedReward", "Program",
                      "AuditRecord", "WebhookFailure", "Post", "EventTicket"):
        assert stranger(NODE, {"id": world[type_name][1]}).body == {"data": {"node": None}}, type_name
    moderator = client.as_(idp.staff_token("mod-nodes", "kizuna-moderators"))
    assert moderator.ok(NODE, {"id": world["Member"][1]})["node"] is not None  # any staff role reads members
    assert moderator.ok(NODE, {"id": world["AuditRecord"][1]}) == {"node": None}  # the trail is the admins'
    assert service.ok(NODE, {"id": world["Redemption"][1]})["node"] is not None  # the storefront checks coupons
    assert service.ok(NODE, {"id": world["Member"][1]}) == {"node": None}
    for type_name in ("Member", "Redemption", "Reward", "ProgramSummary", "Post", "EventTicket", "VipEvent"):
        assert client(NODE, {"id": world[type_name][1]}).body == {"data": {"node": None}}, type_name
    # A partner reaches partnerMemberStatus only: `node` is refused outright (resolvers/partners/fence.py).
    refused = client.as_(idp.partner_token("acme"))(NODE, {"id": world["Member"][1]})
    assert refused.body["data"] == {"node": None} and refused.errors[0]["extensions"]["code"] == "FORBIDDEN"
    # What the public feed shows stays readable without a token (its post is not, nor whose it is).
    assert client.ok(NODE, {"id": world["FeedPost"][1]})["node"] is not None


@pytest.mark.parametrize("bad", [
    "free-shipping",  # an object's own id is not a global id
    base64.urlsafe_b64encode(b"Nope:x").decode().rstrip("="),  # no such type
    base64.urlsafe_b64encode(b"Member:").decode().rstrip("="),  # no key
    base64.urlsafe_b64encode(b"Member:T#x#M#y").decode().rstrip("="),  # a key no member can have
    base64.urlsafe_b64encode(b"Member:m-1").decode(),  # padded: not the spelling the API gives
    global_id("Member", "m-1")[:-1] + "B",  # the same bytes, another spelling
    "TWVtYmVy!",
    "A" * 5000,
])
def test_an_id_this_api_did_not_issue_is_bad_user_input(admin, bad):
    r = admin(NODE, {"id": bad})
    assert r.status == 200 and r.error_codes() == ["BAD_USER_INPUT"], r.body
    assert r.errors[0]["extensions"]["field"] == "id" and r.data == {"node": None}


def test_nodes_answers_in_the_order_asked_with_nulls_and_at_most_100(world, enrolled):
    ids = [world["Member"][1], global_id("Member", "m-nobody"), world["Reward"][1]]
    got = enrolled.ok("query($ids: [ID!]!) { nodes(ids: $ids) { __typename id } }", {"ids": ids})["nodes"]
    assert got == [{"__typename": "Member", "id": ids[0]}, None, {"__typename": "Reward", "id": ids[2]}]
    many = enrolled("query($ids: [ID!]!) { nodes(ids: $ids) { id } }", {"ids": [ids[0]] * (MAX_NODES + 1)})
    assert many.error_codes() == ["BAD_USER_INPUT"] and many.errors[0]["extensions"]["field"] == "ids"
    bad = enrolled("query($ids: [ID!]!) { nodes(ids: $ids) { id } }", {"ids": [ids[0], "free-shipping"]})
    assert bad.error_codes() == ["BAD_USER_INPUT"] and bad.errors[0]["extensions"]["field"] == "ids.1"


def test_arguments_that_take_a_member_or_a_reward_take_its_global_id(world, admin, enrolled, member_id):
    member_gid, reward_gid = world["Member"][1], world["Reward"][1]
    adjusted = admin.ok(ADJUST, {"m": member_gid, "p": 5})["pointsAdjust"]
    assert adjusted["userErrors"] == [] and adjusted["member"]["memberId"] == member_id
    assert admin.ok("query($id: ID!) { member(id: $id) { memberId } }", {"id": member_gid})["member"] == {
        "memberId": member_id}
    redeemed = enrolled.ok(REDEEM, {"r": reward_gid})["rewardRedeem"]
    assert redeemed["userErrors"] == []
    edited = admin.ok(REWARD, {"input": {"id": reward_gid, "pointsCost": 6}})["rewardSave"]
    assert edited["userErrors"] == [] and edited["reward"]["id"] == reward_gid


def test_a_reward_members_cannot_redeem_now_is_null_to_them_and_shown_to_staff(admin, enrolled):
    reward_id = f"r-{uuid.uuid4().hex[:8]}"
    saved = admin.ok(REWARD, {"input": {"id": reward_id, "name": "Off", "kind": "CUSTOM", "pointsCost": 5,
                                        "active": False}})["rewardSave"]
    gid = saved["reward"]["id"]
    assert enrolled.ok(NODE, {"id": gid}) == {"node": None}
    assert admin.ok(NODE, {"id": gid}) == {"node": {"__typename": "Reward", "id": gid}}


def _object(t):
    while isinstance(t, (GraphQLNonNull, GraphQLList)):
        t = t.of_type
    return t if isinstance(t, GraphQLObjectType) else None


def test_every_object_a_query_reaches_has_an_id_or_says_it_is_an_embedded_value():
    schema = build_schema()._schema
    seen, todo = set(), [schema.query_type]
    while todo:
        t = todo.pop()
        for f in t.fields.values():
            child = _object(f.type)
            if child is not None and child.name not in seen:
                seen.add(child.name)
                todo.append(child)
    node = schema.get_type("Node")
    for name in sorted(seen):
        t = schema.get_type(name)
        if node in t.interfaces:
            continue
        assert "embedded value" in (t.description or ""), f"{name}: implement Node, or say it is an embedded value"


def test_a_coupons_reward_stays_what_it_was_worth_and_current_follows_the_catalog(world, admin, enrolled):
    reward_gid = world["Reward"][1]
    coupon = """query N($id: ID!) { node(id: $id) { ... on Redemption { reward { id rewardId pointsCost
                current { id pointsCost } } } } }"""
    before = enrolled.ok(coupon, {"id": world["Redemption"][1]})["node"]["reward"]
    assert before["pointsCost"] == 5 and before["current"] == {"id": reward_gid, "pointsCost": 5}
    assert before["id"] != reward_gid  # two objects in a cache: the coupon's worth never overwrites the catalog's
    assert admin.ok(REWARD, {"input": {"id": reward_gid, "pointsCost": 9}})["rewardSave"]["userErrors"] == []
    after = enrolled.ok(coupon, {"id": world["Redemption"][1]})["node"]["reward"]
    assert after["pointsCost"] == 5 and after["current"] == {"id": reward_gid, "pointsCost": 9}
