"""The public event catalog and the versioned envelope: every published event validates against the
JSON Schema in the repo, and no internal type is published (or kept private) without a decision."""
from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone
from pathlib import Path

import jsonschema
import pytest

from domain.events_out import catalog

ROOT = Path(__file__).resolve().parents[2]
SCHEMA = json.loads((ROOT / catalog.SCHEMA_PATH).read_text())
VALIDATOR = jsonschema.Draft202012Validator(SCHEMA, format_checker=jsonschema.FormatChecker())
WHEN = datetime(2026, 12, 2, 21, 30, 5, 123456, tzinfo=timezone(timedelta(hours=9)))


def sample(internal_type: str, **over) -> dict:
    fields = dict(event_id="01JEQ8R6ZK4T7W2N5B9C3D0F1G", internal_type=internal_type, tenant="t-brand",
                  member_id="m-1", occurred_at=WHEN, detail={"points": 120}, sequence=3,
                  member=catalog.member_block(catalog.MemberFacts(True, "gold", 420, "Aiko", "aiko@example.com")))
    fields.update(over)
    return catalog.envelope(**fields)


def test_the_envelope_schema_is_itself_a_valid_json_schema():
    jsonschema.Draft202012Validator.check_schema(SCHEMA)


@pytest.mark.parametrize("internal_type", sorted(catalog.PUBLIC))
def test_every_published_type_makes_an_envelope_the_schema_accepts(internal_type):
    VALIDATOR.validate(sample(internal_type))


def test_the_schema_names_exactly_the_published_types():
    assert sorted(SCHEMA["properties"]["type"]["enum"]) == sorted(catalog.PUBLIC.values())


def test_occurred_at_is_the_change_time_in_utc_to_the_millisecond():
    assert sample("points.earned")["occurredAt"] == "2026-12-02T12:30:05.123Z"


def test_the_id_is_the_outbox_id_so_every_redelivery_carries_the_same_one():
    a, b = sample("tier.changed", event_id="01JEQ8R6ZK4T7W2N5B9C3D0F1H"), sample(
        "tier.changed", event_id="01JEQ8R6ZK4T7W2N5B9C3D0F1H")
    assert a == b and a["id"] == "01JEQ8R6ZK4T7W2N5B9C3D0F1H"


def test_a_private_type_is_never_published():
    with pytest.raises(ValueError):
        sample("badge.backfilled")
    assert catalog.public_name("badge.backfilled") is None


def test_the_outbox_refuses_a_type_the_catalog_does_not_place():
    with pytest.raises(ValueError, match="neither PUBLIC nor PRIVATE"):
        catalog.check_known("points.teleported")
    assert catalog.check_known("points.earned") == "points.earned"
    assert catalog.check_known("order.delivered") == "order.delivered"


def test_no_type_is_both_published_and_private():
    assert not set(catalog.PUBLIC) & set(catalog.PRIVATE)
    assert len(set(catalog.PUBLIC.values())) == len(catalog.PUBLIC)  # one public name, one meaning


@pytest.mark.parametrize("broken", [
    {"version": 2}, {"type": "points.earned"}, {"occurredAt": "2026-12-02 12:30"}, {"id": "not-a-ulid"},
    {"memberId": ""}, {"extra": 1}, {"data": []}, {"sequence": 0}, {"sequence": "3"},
    {"member": {"marketingConsent": False, "tier": None, "pointsAvailable": 0, "email": "a@example.com"}},
    {"member": {"marketingConsent": True, "tier": None, "pointsAvailable": 0, "birthday": "1990-05-01"}},
])
def test_the_schema_refuses_envelopes_a_receiver_could_not_rely_on(broken):
    event = {**sample("points.earned"), **broken}
    with pytest.raises(jsonschema.ValidationError):
        VALIDATOR.validate(event)


def test_the_member_block_carries_name_and_email_only_with_marketing_consent():
    facts = catalog.MemberFacts(False, "silver", 120, "Ren", "ren@example.com")
    assert catalog.member_block(facts) == {"marketingConsent": False, "tier": "silver", "pointsAvailable": 120,
                                           "locale": None}
    agreed = catalog.member_block(catalog.MemberFacts(True, None, 0, "Mio", "mio@example.com", "ja-JP"))
    assert agreed == {"marketingConsent": True, "tier": None, "pointsAvailable": 0, "locale": "ja-JP", "name": "Mio",
                      "email": "mio@example.com"}
    assert catalog.member_block(None) == {"marketingConsent": False, "tier": None, "pointsAvailable": 0,
                                          "locale": None}
    VALIDATOR.validate(sample("points.earned", member=catalog.member_block(facts)))


def test_a_naive_time_is_refused():
    with pytest.raises(ValueError):
        sample("points.earned", occurred_at=datetime(2026, 12, 2, 12, 0))


def test_an_outbox_item_of_a_type_the_catalog_does_not_place_is_never_built():
    from infra.members import outbox_event
    with pytest.raises(ValueError, match="neither PUBLIC nor PRIVATE"):
        outbox_event("t-brand", "T#t-brand#M#m-1", "points.teleported", {}, WHEN.isoformat(), 0)
    assert outbox_event("t-brand", "T#t-brand#M#m-1", "points.earned", {}, WHEN.isoformat(), 0).event_type == \
        "points.earned"


def test_the_readme_catalog_lists_every_published_type_and_its_example_is_a_valid_envelope():
    readme = (ROOT / "README.md").read_text()
    section = readme.split("## Events out: the catalog", 1)[1].split("\n## ", 1)[0]
    listed = dict(line.split("|")[1:3] for line in section.splitlines() if line.startswith("| `"))
    assert {k.strip(" `"): v.strip(" `") for k, v in listed.items()} == {v: k for k, v in catalog.PUBLIC.items()}
    example = json.loads(section.split("```json", 1)[1].split("```", 1)[0])
    VALIDATOR.validate(example)


def test_every_readme_catalog_row_gives_example_data_a_receiver_can_parse():
    readme = (ROOT / "README.md").read_text()
    section = readme.split("## Events out: the catalog", 1)[1].split("\n## ", 1)[0]
    rows = [line.split("|") for line in section.splitlines() if line.startswith("| `")]
    assert len(rows) == len(catalog.PUBLIC)
    for row in rows:
        data = json.loads(row[3].strip().strip("`"))
        assert isinstance(data, dict) and data, row[1]
        VALIDATOR.validate({**sample(catalog.check_known(row[2].strip(" `"))), "data": data})


def test_the_readmes_verification_snippet_handles_a_signed_delivery_once_and_refuses_a_forged_one():
    import time

    from domain.events_out import signing
    readme = (ROOT / "README.md").read_text()
    code = readme.split("### Verifying a delivery", 1)[1].split("```python", 1)[1].split("```", 1)[0]
    secret = signing.new_secret()
    seen: set[str] = set()
    handled: list[dict] = []
    scope = {"already_seen": lambda event_id: event_id in seen or seen.add(event_id), "handle": handled.append}
    exec(code.replace('"whsec_..."', repr(secret)), scope)  # the README's code, as printed, with a real secret
    envelope = sample("points.earned")
    body = json.dumps(envelope).encode()
    headers = signing.sign([secret], envelope["id"], int(time.time()), body)
    scope["receive"](body, headers)
    scope["receive"](body, headers)  # delivered again (at least once): handled once
    assert handled == [envelope]
    with pytest.raises(Exception):
        scope["receive"](body.replace(b'"points": 120', b'"points": 99999'), headers)
    assert handled == [envelope]
