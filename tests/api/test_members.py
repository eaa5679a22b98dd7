"""Members through the API: enroll, me, profile changes, staff look-ups and who may read whom."""
from __future__ import annotations

import uuid

from tests.conftest import ENROLL, enroll

ME = "{ me { id name email birthday marketingConsent referralCode points { available pending lifetime debt } } }"


def test_me_for_a_new_token_is_null_until_the_member_enrolls(member):
    assert member.ok(ME) == {"me": None}
    assert member.ok(ME) == {"me": None}  # asking again changes nothing: queries never enroll
    created = enroll(member, name="Aiko Tanaka", birthday="1990-05-01", marketingConsent=True)
    me = member.ok(ME)["me"]
    assert me["id"] == created["id"]
    assert me["name"] == "Aiko Tanaka"
    assert me["birthday"] == "1990-05-01"
    assert me["marketingConsent"] is True
    assert me["points"] == {"available": 0, "pending": 0, "lifetime": 0, "debt": 0}
    assert len(me["referralCode"]) == 8


def test_enrolling_twice_is_a_typed_error(member):
    enroll(member)
    again = member.ok(ENROLL, {"input": {"name": "Again", "email": "again@example.com"}})["memberEnroll"]
    assert again["member"] is None
    assert [e["code"] for e in again["userErrors"]] == ["ALREADY_ENROLLED"]


def test_a_verified_email_is_bound_to_one_member_and_a_second_account_joins_unbound(client, idp):
    email = f"{uuid.uuid4().hex[:8]}@example.com"
    first = enroll(client.as_(idp.member_token(f"m-{uuid.uuid4().hex[:8]}", email=email)), email=email)
    second = client.as_(idp.member_token(f"m-{uuid.uuid4().hex[:8]}", email=email.upper()))
    payload = second.ok(ENROLL, {"input": {"name": "B", "email": email}})["memberEnroll"]
    assert payload["userErrors"] == [] and payload["member"]["id"] != first["id"]
    verified = "query { me { emailVerified } }"
    assert second.ok(verified) == {"me": {"emailVerified": False}}


def test_bad_enrollment_input_reports_every_field_and_writes_nothing(member):
    payload = member.ok(ENROLL, {"input": {"name": " ", "email": "not-an-email", "birthday": "2090-01-01"}})
    errors = payload["memberEnroll"]["userErrors"]
    assert {(e["field"], e["code"]) for e in errors} == {
        ("name", "REQUIRED"), ("email", "INVALID"), ("birthday", "OUT_OF_RANGE")}
    assert member.ok(ME) == {"me": None}


def test_referral_code_links_the_new_member_and_unknown_codes_are_refused(client, idp):
    referrer = enroll(client.as_(idp.member_token(f"m-{uuid.uuid4().hex[:8]}")))
    friend = client.as_(idp.member_token(f"m-{uuid.uuid4().hex[:8]}"))
    bad = friend.ok(ENROLL, {"input": {"name": "F", "email": f"{uuid.uuid4().hex[:8]}@example.com",
                                       "referralCode": "ZZZZZZZZ"}})["memberEnroll"]
    assert [e["code"] for e in bad["userErrors"]] == ["NOT_FOUND"]
    enroll(friend, referralCode=referrer["referralCode"].lower())


UPDATE = """
mutation U($input: MemberUpdateProfileInput!) {
  memberUpdateProfile(input: $input) { member { name email marketingConsent } userErrors { field code message } }
}"""


def test_update_profile_changes_fields_and_a_typed_email_reserves_nothing(client, idp):
    a = client.as_(idp.member_token(f"m-{uuid.uuid4().hex[:8]}"))
    enroll(a, email="first-" + uuid.uuid4().hex[:6] + "@example.com")
    new_email = f"new-{uuid.uuid4().hex[:6]}@example.com"
    out = a.ok(UPDATE, {"input": {"name": "Renamed", "email": new_email, "marketingConsent": False}})
    assert out["memberUpdateProfile"] == {
        "member": {"name": "Renamed", "email": new_email, "marketingConsent": False}, "userErrors": []}
    b = client.as_(idp.member_token(f"m-{uuid.uuid4().hex[:8]}"))
    typed = b.ok(ENROLL, {"input": {"name": "B", "email": new_email}})["memberEnroll"]["userErrors"]
    assert typed == []  # a typed email is contact data: it reserves nothing, so it is nobody's to refuse


def test_update_profile_before_enrolling_is_a_typed_error(member):
    out = member.ok(UPDATE, {"input": {"name": "X"}})["memberUpdateProfile"]
    assert [e["code"] for e in out["userErrors"]] == ["NOT_ENROLLED"]


MEMBER = "query M($id: ID!) { member(id: $id) { id memberId email } }"


def test_a_member_cannot_read_another_member_by_id_or_alias(client, idp):
    victim_id = f"m-{uuid.uuid4().hex[:8]}"
    enroll(client.as_(idp.member_token(victim_id)), email=f"victim-{uuid.uuid4().hex[:6]}@example.com")
    attacker = client.as_(idp.member_token(f"m-{uuid.uuid4().hex[:8]}"))
    enroll(attacker)
    by_id = attacker(MEMBER, {"id": victim_id})
    assert by_id.data == {"member": None}
    assert by_id.error_codes() == ["FORBIDDEN"]
    aliased = attacker("query($id: ID!) { mine: me { id } theirs: member(id: $id) { email } "
                       "also: member(id: $id) { id } }", {"id": victim_id})
    assert aliased.data["theirs"] is None and aliased.data["also"] is None
    assert aliased.data["mine"] is not None
    assert "victim" not in str(aliased.body)
    listing = attacker("{ members(first: 5) { edges { node { email } } } }")
    assert listing.data is None or listing.data.get("members") is None
    assert "FORBIDDEN" in listing.error_codes()


def test_anonymous_callers_are_asked_to_sign_in(client):
    r = client(ME)
    assert r.data == {"me": None}
    assert r.error_codes() == ["UNAUTHENTICATED"]


def test_staff_read_members_and_page_through_them_with_cursors(client, idp, admin):
    ids = []
    for _ in range(3):
        mid = f"m-{uuid.uuid4().hex[:8]}"
        enroll(client.as_(idp.member_token(mid)))
        ids.append(mid)
    assert admin.ok(MEMBER, {"id": ids[0]})["member"]["memberId"] == ids[0]
    seen, after = [], None
    for _ in range(1000):
        page = admin.ok("query($after: String) { members(first: 2, after: $after) "
                        "{ edges { cursor node { memberId } } pageInfo { hasNextPage endCursor } } }",
                        {"after": after})["members"]
        assert len(page["edges"]) <= 2
        seen += [e["node"]["memberId"] for e in page["edges"]]
        if not page["pageInfo"]["hasNextPage"]:
            break
        after = page["pageInfo"]["endCursor"]
    assert set(ids) <= set(seen)
    assert len(seen) == len(set(seen))


def test_first_below_one_is_out_of_range_and_a_bad_cursor_is_bad_user_input(admin):
    r = admin("{ members(first: 0) { edges { cursor } } }")
    assert r.error_codes() == ["OUT_OF_RANGE"]
    r = admin('{ members(first: 5, after: "bm90LWEtY3Vyc29y") { edges { cursor } } }')
    assert r.error_codes() == ["BAD_USER_INPUT"]


def test_staff_only_fields_refuse_service_and_partner_tokens(client, idp):
    for token in (idp.service_token(), idp.partner_token("acme")):
        r = client.as_(token)("{ members(first: 1) { edges { cursor } } }")
        assert "FORBIDDEN" in r.error_codes()


def test_a_member_gives_a_locale_for_messages_changes_it_and_a_malformed_one_is_refused(member):
    enroll(member, locale="ja-JP")
    assert member.ok("{ me { locale } }")["me"]["locale"] == "ja-JP"
    update = """mutation U($input: MemberUpdateProfileInput!) { memberUpdateProfile(input: $input) {
      member { locale } userErrors { field code } } }"""
    assert member.ok(update, {"input": {"locale": "en"}})["memberUpdateProfile"] == {
        "member": {"locale": "en"}, "userErrors": []}
    bad = member.ok(update, {"input": {"locale": "not a locale!"}})["memberUpdateProfile"]
    assert bad["member"] is None and bad["userErrors"] == [{"field": "locale", "code": "INVALID"}]
    cleared = member.ok(update, {"input": {"locale": None}})["memberUpdateProfile"]
    assert cleared == {"member": {"locale": None}, "userErrors": []}
