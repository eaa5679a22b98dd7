"""What a partner learns about a member: only consented fields of a consenting member, and otherwise
one answer that does not tell the cases apart."""
from __future__ import annotations

import hashlib
from datetime import datetime, timezone

import pytest

from domain.errors import ErrorCode
from domain.partners.consent import SHAREABLE_FIELDS, Consent, Purpose, Status, answer, check_fields
from domain.partners.member_ref import MemberRef, email_hash, new_linked_id, parse

GRANTED = datetime(2026, 12, 1, 9, 0, tzinfo=timezone.utc)
STATUS = Status(tier="gold", status="ACTIVE", member_since="2025-04-02")


def consent(fields=SHAREABLE_FIELDS, **over) -> Consent:
    return Consent(**{"partner_id": "p-cafe", "purpose": Purpose.TIER_MATCH, "fields": tuple(fields),
                      "granted_at": GRANTED, "linked_id": new_linked_id(), **over})


def test_a_consenting_member_shares_exactly_the_requested_consented_fields():
    assert answer(consent(), ("tier", "memberSince"), STATUS, partner_active=True) == {
        "tier": "gold", "memberSince": "2025-04-02"}


@pytest.mark.parametrize("case", ["no consent", "revoked", "suspended partner", "non-member",
                                  "field not granted", "pii field", "nothing requested"])
def test_every_refusal_is_the_same_answer(case):
    c, requested, status, active = consent(fields=("tier",)), ("tier",), STATUS, True
    if case == "no consent":
        c = None
    elif case == "revoked":
        c = c.revoke(GRANTED)
    elif case == "suspended partner":
        active = False
    elif case == "non-member":
        status = None
    elif case == "field not granted":
        requested = ("tier", "status")
    elif case == "pii field":
        requested = ("email",)
    elif case == "nothing requested":
        requested = ()
    assert answer(c, requested, status, partner_active=active) is None
    assert answer(consent(fields=("tier",)), ("tier",), STATUS, partner_active=True) == {"tier": "gold"}


def test_a_revocation_keeps_its_first_time():
    later = datetime(2026, 12, 2, tzinfo=timezone.utc)
    revoked = consent().revoke(GRANTED)
    assert revoked.revoke(later).revoked_at == GRANTED and not revoked.active


def test_only_tier_status_and_member_since_can_be_granted_and_every_other_field_is_named():
    fields, problems = check_fields(["memberSince", "email", "tier", "balance"])
    assert fields == ("tier", "memberSince")
    assert [(p.code, p.field) for p in problems] == [(ErrorCode.INVALID, "fields.1"), (ErrorCode.INVALID, "fields.3")]
    assert [p.code for p in check_fields([])[1]] == [ErrorCode.REQUIRED]


def test_the_email_hash_is_sha256_of_the_address_as_kizuna_stores_it():
    assert email_hash("  Aiko@Example.COM ") == hashlib.sha256(b"aiko@example.com").hexdigest()


def test_a_reference_is_exactly_one_well_formed_linked_id_or_email_hash():
    linked = new_linked_id()
    digest = email_hash("aiko@example.com")
    assert parse(linked, None) == MemberRef(linked_id=linked)
    assert parse(None, digest.upper()) == MemberRef(email_sha256=digest)
    for bad in [(None, None), (linked, digest), ("pl_short", None), (None, "aiko@example.com"),
                (linked + "x", None), (None, digest[:-1])]:
        assert parse(*bad) is None, bad


def test_linked_ids_do_not_repeat():
    assert len({new_linked_id() for _ in range(1000)}) == 1000
