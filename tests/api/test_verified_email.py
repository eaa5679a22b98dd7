"""An email binds orders and uniqueness only when the identity provider vouches for it."""
from __future__ import annotations

import uuid

import pytest

from tests.api.points_support import ORDER, order_input
from tests.conftest import ENROLL, enroll

POINTS = "{ me { emailVerified points { pending lifetime } } }"
UPDATE = """mutation U($input: MemberUpdateProfileInput!) {
  memberUpdateProfile(input: $input) { member { email emailVerified } userErrors { field code message } } }"""
ASSIGN = """mutation A($o: ID!, $m: ID!, $r: String!) { orderAssign(orderId: $o, memberId: $m, reason: $r) {
  outcome points member { points { pending } } userErrors { field code } } }"""


@pytest.fixture
def service(client, idp):
    return client.as_(idp.service_token())


@pytest.fixture
def guest_email() -> str:
    return f"guest-{uuid.uuid4().hex[:8]}@example.com"


def audit_entries_of(admin, member_id: str) -> list[dict]:
    """The tenant's audit trail is shared with tests running alongside: page through it."""
    found, after = [], None
    for _ in range(100):
        page = admin.ok("""query($a: String) { auditTrail(first: 100, after: $a) {
            edges { node { action memberId reason detail } } pageInfo { hasNextPage endCursor } } }""",
                        {"a": after})["auditTrail"]
        found += [e["node"] for e in page["edges"] if e["node"]["memberId"] == member_id]
        if not page["pageInfo"]["hasNextPage"]:
            break
        after = page["pageInfo"]["endCursor"]
    return found


def held_order(service, email: str) -> str:
    order = order_input(None, email=email)
    out = service.ok(ORDER, {"input": order})["orderRecord"]
    assert out["outcome"] == "HELD_FOR_ENROLLMENT", out
    return order["orderId"]


def new_member(client, idp, **token):
    member_id = f"m-{uuid.uuid4().hex[:10]}"
    return member_id, client.as_(idp.member_token(member_id, **token))


def test_a_typed_email_the_token_does_not_vouch_for_claims_no_guest_order(client, idp, service, guest_email):
    held_order(service, guest_email)
    _, squatter = new_member(client, idp)
    enroll(squatter, email=guest_email)
    assert squatter.ok(POINTS)["me"] == {"emailVerified": False, "points": {"pending": 0, "lifetime": 0}}
    _, unverified = new_member(client, idp, email=guest_email, email_verified=False)
    enroll(unverified, email=guest_email)
    assert unverified.ok(POINTS)["me"]["points"]["pending"] == 0
    # the real customer, vouched for by the IdP, still gets their order
    _, owner = new_member(client, idp, email=guest_email)
    enroll(owner, email=guest_email)
    assert owner.ok(POINTS)["me"] == {"emailVerified": True, "points": {"pending": 100, "lifetime": 100}}


def test_a_verified_enrollment_claims_the_guest_orders_once(client, idp, service, guest_email):
    held_order(service, guest_email)
    held_order(service, guest_email.upper())
    _, owner = new_member(client, idp, email=guest_email)
    enroll(owner, email="contact@example.com")  # contact data may differ; the token's email binds
    assert owner.ok(POINTS)["me"]["points"] == {"pending": 200, "lifetime": 200}
    again = owner.ok(UPDATE, {"input": {"name": "Again"}})["memberUpdateProfile"]
    assert again["userErrors"] == [] and owner.ok(POINTS)["me"]["points"]["pending"] == 200


def test_a_member_who_verifies_later_gets_the_email_bound_and_its_orders_on_the_next_profile_update(
        client, idp, service, guest_email):
    member_id, before = new_member(client, idp)
    enroll(before, email=guest_email)
    held_order(service, guest_email)
    after = client.as_(idp.member_token(member_id, email=guest_email))
    out = after.ok(UPDATE, {"input": {}})["memberUpdateProfile"]
    assert out["member"]["emailVerified"] is True and out["userErrors"] == []
    assert after.ok(POINTS)["me"]["points"]["pending"] == 100


def test_no_member_answer_tells_whether_another_persons_address_is_enrolled(client, idp, guest_email):
    _, owner = new_member(client, idp, email=guest_email)
    enroll(owner, email=guest_email)
    _, prober = new_member(client, idp)
    enroll(prober)
    fresh = f"fresh-{uuid.uuid4().hex[:8]}@example.com"
    answers = []
    for email in (guest_email, fresh):
        out = prober.ok(UPDATE, {"input": {"email": email}})["memberUpdateProfile"]
        answers.append((out["userErrors"], out["member"]["emailVerified"]))
    assert answers[0] == answers[1] == ([], False)
    _, joiner = new_member(client, idp)
    joined = joiner.ok(ENROLL, {"input": {"name": "J", "email": guest_email}})["memberEnroll"]
    assert joined["userErrors"] == []


def test_staff_assign_a_held_order_once_with_an_audited_reason(client, idp, admin, service, guest_email):
    order_id = held_order(service, guest_email)
    member_id, member = new_member(client, idp)
    enroll(member)
    first = admin.ok(ASSIGN, {"o": order_id, "m": member_id, "r": "receipt shown at the store"})["orderAssign"]
    assert first == {"outcome": "CREDITED", "points": 100, "member": {"points": {"pending": 100}}, "userErrors": []}
    again = admin.ok(ASSIGN, {"o": order_id, "m": member_id, "r": "again"})["orderAssign"]
    assert again["outcome"] == "DUPLICATE" and again["member"]["points"]["pending"] == 100
    other_id, other = new_member(client, idp)
    enroll(other)
    taken = admin.ok(ASSIGN, {"o": order_id, "m": other_id, "r": "mistake"})["orderAssign"]
    assert taken["userErrors"] == [{"field": "orderId", "code": "CONFLICT"}]
    assert {"action": "order.assign", "memberId": member_id, "reason": "receipt shown at the store",
            "detail": {"orderId": order_id}} in audit_entries_of(admin, member_id)
    # the customer enrolling later with the verified address finds the order already credited
    _, owner = new_member(client, idp, email=guest_email)
    enroll(owner, email=guest_email)
    assert owner.ok(POINTS)["me"]["points"]["pending"] == 0


def test_order_assign_is_for_admins_and_needs_a_reason_and_an_enrolled_member(client, idp, admin, service,
                                                                               guest_email, member_id, enrolled):
    order_id = held_order(service, guest_email)
    assert "FORBIDDEN" in enrolled(ASSIGN, {"o": order_id, "m": member_id, "r": "mine"}).error_codes()
    no_reason = admin.ok(ASSIGN, {"o": order_id, "m": member_id, "r": " "})["orderAssign"]
    assert no_reason["userErrors"] == [{"field": "reason", "code": "REQUIRED"}]
    nobody = admin.ok(ASSIGN, {"o": order_id, "m": "m-not-enrolled", "r": "x"})["orderAssign"]
    assert nobody["userErrors"] == [{"field": "memberId", "code": "NOT_ENROLLED"}]
    unknown = admin.ok(ASSIGN, {"o": "no-such-order", "m": member_id, "r": "x"})["orderAssign"]
    assert unknown["userErrors"] == [{"field": "orderId", "code": "NOT_FOUND"}]
