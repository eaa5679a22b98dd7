"""Absent is not null: in every update input a field left out keeps its value, an explicit null clears it
(where the schema says it can be cleared; elsewhere null is a typed error), and a value sets it."""
from __future__ import annotations

import uuid
from datetime import date, datetime, timezone

import pytest

from domain.points.program import DEFAULT_PROGRAM
from infra import keys
from infra.items import BirthdayMark
from infra.points.program_store import ProgramStore
from resolvers.partial import CLEARS, KEEPS
from resolvers.schema import build_schema

PROGRAM = """mutation P($input: ProgramInput!) { programUpdate(input: $input) {
  program { exchangeBonusMaxReturnRate returnWindowDays timezone multipliers { factor category } }
  userErrors { field code } } }"""
PROFILE = """mutation U($input: MemberUpdateProfileInput!) { memberUpdateProfile(input: $input) {
  member { name email birthday marketingConsent } userErrors { field code } } }"""
REWARD = """mutation S($input: RewardInput!) { rewardSave(input: $input) {
  reward { name pointsCost description imageUrl requiresTier tierGate stockTotal startsAt endsAt active }
  userErrors { field code } } }"""


@pytest.fixture
def fresh_program(services, tenant):
    yield
    ProgramStore(tenant, services.programs).save_program(DEFAULT_PROGRAM, "test", datetime.now(timezone.utc), "reset")


def program(admin, **changes):
    return admin.ok(PROGRAM, {"input": changes})["programUpdate"]


# -- programUpdate ---------------------------------------------------------------------------------

def test_program_update_sets_keeps_and_clears_the_exchange_bonus_return_rate(admin, fresh_program):
    assert program(admin, exchangeBonusMaxReturnRate="0.5")["program"]["exchangeBonusMaxReturnRate"] == "0.5"
    kept = program(admin, returnWindowDays=20)["program"]  # absent: left as it is
    assert (kept["exchangeBonusMaxReturnRate"], kept["returnWindowDays"]) == ("0.5", 20)
    cleared = program(admin, exchangeBonusMaxReturnRate=None)["program"]
    assert (cleared["exchangeBonusMaxReturnRate"], cleared["returnWindowDays"]) == (None, 20)
    assert admin.ok("{ program { exchangeBonusMaxReturnRate } }")["program"]["exchangeBonusMaxReturnRate"] is None


def test_a_variable_left_out_of_the_request_is_absent_not_null(admin, fresh_program):
    program(admin, exchangeBonusMaxReturnRate="0.25")
    query = """mutation($rate: Decimal, $days: Int) { programUpdate(input: {exchangeBonusMaxReturnRate: $rate,
               returnWindowDays: $days}) { program { exchangeBonusMaxReturnRate returnWindowDays } } }"""
    out = admin.ok(query, {"days": 9})["programUpdate"]["program"]
    assert out == {"exchangeBonusMaxReturnRate": "0.25", "returnWindowDays": 9}
    assert admin.ok(query, {"rate": None})["programUpdate"]["program"]["exchangeBonusMaxReturnRate"] is None


def test_null_on_a_program_field_that_cannot_be_cleared_is_a_typed_error_for_each_and_changes_nothing(admin,
                                                                                                     fresh_program):
    program(admin, returnWindowDays=12)
    out = program(admin, returnWindowDays=None, timezone=None, rounding=None, expiryMonths=1000)
    assert out["program"] is None
    assert {(e["field"], e["code"]) for e in out["userErrors"]} == {
        ("returnWindowDays", "REQUIRED"), ("timezone", "REQUIRED"), ("rounding", "REQUIRED"),
        ("expiryMonths", "OUT_OF_RANGE")}
    assert admin.ok("{ program { returnWindowDays timezone } }")["program"] == {"returnWindowDays": 12,
                                                                               "timezone": "UTC"}


def test_a_program_list_is_kept_when_absent_replaced_by_a_value_and_emptied_by_null(admin, fresh_program):
    program(admin, multipliers=[{"factor": "2", "category": "skincare"}])
    assert program(admin, returnWindowDays=15)["program"]["multipliers"] == [{"factor": "2", "category": "skincare"}]
    assert program(admin, multipliers=[{"factor": "3", "category": "bags"}])["program"]["multipliers"] == [
        {"factor": "3", "category": "bags"}]
    assert program(admin, multipliers=None)["program"]["multipliers"] == []


@pytest.mark.parametrize("input_name", ["ProgramInput", "MemberUpdateProfileInput", "RewardInput"])
def test_the_schema_says_of_every_update_field_whether_null_clears_it(input_name):
    fields = build_schema()._schema.type_map[input_name].fields
    for name, field in fields.items():
        if name == "id" or field.deprecation_reason:
            continue
        says = [note for note in (CLEARS, KEEPS) if note in (field.description or "")]
        assert len(says) == 1, f"{input_name}.{name}: {field.description!r}"
    assert CLEARS in fields.get("exchangeBonusMaxReturnRate", fields.get("birthday", fields.get("imageUrl"))).description


# -- memberUpdateProfile ----------------------------------------------------------------------------

def test_profile_update_keeps_absent_fields_sets_given_ones_and_clears_the_birthday(enrolled, tenant, member_id):
    first = enrolled.ok(PROFILE, {"input": {"name": "Aiko", "birthday": "1990-05-01", "marketingConsent": True}})
    assert first["memberUpdateProfile"]["userErrors"] == []
    kept = enrolled.ok(PROFILE, {"input": {"name": "Aiko T."}})["memberUpdateProfile"]["member"]
    assert (kept["name"], kept["birthday"], kept["marketingConsent"]) == ("Aiko T.", "1990-05-01", True)
    assert BirthdayMark.count(keys.birthday_pk(tenant, "05-01"), BirthdayMark.SK == member_id) == 1
    cleared = enrolled.ok(PROFILE, {"input": {"birthday": None}})["memberUpdateProfile"]["member"]
    assert (cleared["name"], cleared["birthday"], cleared["marketingConsent"]) == ("Aiko T.", None, True)
    # no birthday, no birthday points: the birthday job's list no longer has this member
    assert BirthdayMark.count(keys.birthday_pk(tenant, "05-01"), BirthdayMark.SK == member_id) == 0
    again = enrolled.ok(PROFILE, {"input": {"birthday": "1990-05-02"}})["memberUpdateProfile"]["member"]
    assert again["birthday"] == "1990-05-02"


def test_null_name_email_or_consent_is_refused_field_by_field_and_changes_nothing(enrolled):
    before = enrolled.ok("{ me { name email marketingConsent } }")["me"]
    out = enrolled.ok(PROFILE, {"input": {"name": None, "email": None, "marketingConsent": None,
                                          "birthday": (date.today().replace(year=date.today().year + 1)).isoformat()}})
    payload = out["memberUpdateProfile"]
    assert payload["member"] is None
    assert {(e["field"], e["code"]) for e in payload["userErrors"]} == {
        ("name", "REQUIRED"), ("email", "REQUIRED"), ("marketingConsent", "REQUIRED"), ("birthday", "OUT_OF_RANGE")}
    assert enrolled.ok("{ me { name email marketingConsent } }")["me"] == before


# -- rewardSave ----------------------------------------------------------------------------------

def test_changing_a_reward_keeps_what_is_left_out_and_clears_what_is_null(admin):
    reward_id = f"r-{uuid.uuid4().hex[:8]}"
    created = admin.ok(REWARD, {"input": {
        "id": reward_id, "name": "Tote", "kind": "FREE_PRODUCT", "productSku": "TOTE", "pointsCost": 100,
        "description": "Canvas", "imageUrl": "https://cdn.example.com/tote.png", "requiresTier": "gold",
        "stockTotal": 10, "startsAt": "2026-01-01T00:00:00Z"}})["rewardSave"]
    assert created["userErrors"] == []
    priced = admin.ok(REWARD, {"input": {"id": reward_id, "pointsCost": 120}})["rewardSave"]["reward"]
    assert priced == {**created["reward"], "pointsCost": 120}  # nothing else moved
    cleared = admin.ok(REWARD, {"input": {"id": reward_id, "imageUrl": None, "requiresTier": None,
                                          "stockTotal": None, "startsAt": None, "description": None}})["rewardSave"]
    assert cleared["userErrors"] == []
    assert cleared["reward"] == {**priced, "imageUrl": None, "requiresTier": None, "tierGate": None,
                                 "stockTotal": None, "startsAt": None, "description": ""}
    refused = admin.ok(REWARD, {"input": {"id": reward_id, "name": None, "pointsCost": None,
                                          "active": None}})["rewardSave"]
    assert {(e["field"], e["code"]) for e in refused["userErrors"]} == {
        ("name", "REQUIRED"), ("pointsCost", "REQUIRED"), ("active", "REQUIRED")}


def test_creating_a_reward_lists_every_missing_and_bad_field_at_once(admin):
    reward_id = f"r-{uuid.uuid4().hex[:8]}"
    out = admin.ok(REWARD, {"input": {"id": reward_id, "stockTotal": -1, "perMemberLimit": 0}})["rewardSave"]
    assert {(e["field"], e["code"]) for e in out["userErrors"]} == {
        ("name", "REQUIRED"), ("kind", "REQUIRED"), ("pointsCost", "REQUIRED"), ("stockTotal", "OUT_OF_RANGE"),
        ("perMemberLimit", "OUT_OF_RANGE")}
    # An image that is not https is refused at the edge, with the field's name, before anything is read.
    http = admin.ok(REWARD, {"input": {"id": reward_id, "name": "x", "kind": "CUSTOM", "pointsCost": 1,
                                       "imageUrl": "http://cdn.example.com/a.png"}})["rewardSave"]
    assert [(e["field"], e["code"]) for e in http["userErrors"]] == [("imageUrl", "INVALID")]


def test_the_old_reward_field_names_still_work_for_a_release_and_both_at_once_is_refused(admin):
    reward_id = f"r-{uuid.uuid4().hex[:8]}"
    old = admin.ok(REWARD, {"input": {"id": reward_id, "name": "Gold", "kind": "CUSTOM", "pointsCost": 5,
                                      "tierGate": "gold", "activeFrom": "2026-02-01T00:00:00+00:00"}})["rewardSave"]
    assert old["userErrors"] == []
    assert (old["reward"]["requiresTier"], old["reward"]["tierGate"], old["reward"]["startsAt"]) == (
        "gold", "gold", "2026-02-01T00:00:00+00:00")
    both = admin.ok(REWARD, {"input": {"id": reward_id, "tierGate": "gold", "requiresTier": "silver"}})["rewardSave"]
    assert [(e["field"], e["code"]) for e in both["userErrors"]] == [("tierGate", "INVALID")]
    cleared = admin.ok(REWARD, {"input": {"id": reward_id, "tierGate": None}})["rewardSave"]
    assert cleared["userErrors"] == [] and cleared["reward"]["requiresTier"] is None


# -- the audit trail names fields as the schema does ------------------------------------------------

def audit_entries(admin, match) -> list[dict]:
    """The entries `match` picks, newest first (the recent run of them: paging stops after it)."""
    found, after = [], None
    for _ in range(50):
        page = admin.ok("""query($a: String) { auditTrail(first: 100, after: $a) {
            nodes { action reason detail } pageInfo { hasNextPage endCursor } } }""", {"a": after})["auditTrail"]
        here = [n for n in page["nodes"] if match(n)]
        if (found and not here) or not page["pageInfo"]["hasNextPage"]:
            return found + here
        found += here
        after = page["pageInfo"]["endCursor"]
    return found


def test_a_program_change_is_audited_with_the_schemas_names_and_shapes_before_and_after(admin, fresh_program):
    program(admin, returnWindowDays=30)
    why = f"audit names {uuid.uuid4().hex[:8]}"
    out = admin.ok("""mutation($why: String) { programUpdate(reason: $why, input: {returnWindowDays: 21,
        categoryReturnWindows: [{category: "skincare", days: 60}], tierMultipliers: [{tier: "gold", factor: "1.5"}]})
        { userErrors { code } } }""", {"why": why})
    assert out["programUpdate"]["userErrors"] == []
    [entry] = audit_entries(admin, lambda n: n["reason"] == why)
    assert entry["action"] == "program.update"
    assert entry["detail"] == {
        "before": {"returnWindowDays": 30, "categoryReturnWindows": [], "tierMultipliers": []},
        "after": {"returnWindowDays": 21, "categoryReturnWindows": [{"category": "skincare", "days": 60}],
                  "tierMultipliers": [{"tier": "gold", "factor": "1.5"}]}}
    assert set(entry["detail"]["after"]) <= set(build_schema()._schema.type_map["Program"].fields)


def test_a_reward_change_is_audited_with_the_schemas_names(admin):
    reward_id = f"r-{uuid.uuid4().hex[:8]}"
    admin.ok(REWARD, {"input": {"id": reward_id, "name": "Tote", "kind": "CUSTOM", "pointsCost": 10,
                                "tierGate": "gold", "stockTotal": 3}})
    admin.ok(REWARD, {"input": {"id": reward_id, "pointsCost": 12, "activeUntil": "2027-01-01T00:00:00Z"}})
    entries = audit_entries(admin, lambda n: n["action"] == "reward.save" and n["detail"]["rewardId"] == reward_id)
    changed, created = entries  # newest first
    assert created["detail"]["before"] is None
    assert created["detail"]["after"]["requiresTier"] == "gold" and created["detail"]["after"]["stockTotal"] == 3
    assert not {"tierGate", "activeFrom", "activeUntil", "stockLeft", "id"} & set(created["detail"]["after"])
    assert changed["detail"] == {"rewardId": reward_id, "before": {"pointsCost": 10, "endsAt": None},
                                 "after": {"pointsCost": 12, "endsAt": "2027-01-01T00:00:00+00:00"}}
