"""The brand's webhook endpoints as stored in DynamoDB Local: one partition per tenant, read whole for
each event, kept apart between tenants, and a rotation stored so that both secrets sign until the
overlap ends."""
from __future__ import annotations

from datetime import datetime, timezone

from domain.events_out import endpoints as rules
from infra.events_out.endpoints import Endpoints
from tests.support import new_tenant

NOW = datetime(2026, 12, 2, 12, 0, tzinfo=timezone.utc)


def test_an_event_goes_to_the_enabled_endpoints_that_want_its_type_and_only_the_tenants_own(services) -> None:
    tenant, other = new_tenant(), new_tenant()
    store = Endpoints(tenant)
    everything, _ = store.new_item("https://a.example.com/in", rules.check_event_types(None), True, None, NOW)
    tiers, _ = store.new_item("https://b.example.com/in", rules.check_event_types(["TierChanged"]), True, "CRM", NOW)
    paused, _ = store.new_item("https://c.example.com/in", rules.check_event_types(None), False, None, NOW)
    elsewhere, _ = Endpoints(other).new_item("https://d.example.com/in", ("*",), True, None, NOW)
    for item in (everything, tiers, paused, elsewhere):
        item.save()

    assert {e.url for e in store.all()} == {"https://a.example.com/in", "https://b.example.com/in",
                                            "https://c.example.com/in"}
    assert {e.url for e in store.matching("TierChanged")} == {"https://a.example.com/in", "https://b.example.com/in"}
    assert {e.url for e in store.matching("PointsEarned")} == {"https://a.example.com/in"}
    assert [e.url for e in Endpoints(other).matching("PointsEarned")] == ["https://d.example.com/in"]
    assert store.get(tiers.endpoint_id).description == "CRM"
    assert store.get("01JNOSUCHENDPOINT0000000000") is None


def test_a_stored_rotation_keeps_the_old_secret_signing_until_the_overlap_ends(services) -> None:
    store = Endpoints(new_tenant())
    item, first = store.new_item("https://a.example.com/in", ("*",), True, None, NOW)
    item.save()
    item.secrets, second = rules.rotated(item.secrets, NOW)
    item.save()
    stored = store.get(item.endpoint_id)
    assert stored.active_secrets(NOW) == [second, first]
    assert stored.active_secrets(NOW + rules.ROTATION_OVERLAP) == [second]
