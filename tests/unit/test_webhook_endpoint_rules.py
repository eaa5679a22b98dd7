"""An endpoint's rules: the event types it wants (public names; none means all), and rotation keeping at most
the current secret and the one in its overlap."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from domain.errors import ErrorCode, UserError
from domain.events_out.endpoints import MAX_EVENT_TYPES, ROTATION_OVERLAP, Endpoint, check_event_types, rotated

NOW = datetime(2026, 12, 2, 12, 0, tzinfo=timezone.utc)
FIRST = [{"secret": "whsec_" + "A" * 32, "until": None}]


def endpoint(event_types=("*",), enabled=True, secrets=FIRST) -> Endpoint:
    return Endpoint("demo", "01JENDPOINT", "https://hooks.example.com/in", tuple(event_types), enabled,
                    tuple(secrets), None, NOW.isoformat(), NOW.isoformat())


def test_event_types_are_public_catalog_names_and_none_or_empty_means_all() -> None:
    assert check_event_types(None) == ("*",) == check_event_types([])
    assert check_event_types(["TierChanged", "PointsEarned", "PointsEarned"]) == ("PointsEarned", "TierChanged")
    with pytest.raises(UserError, match="points.earned") as unknown:
        check_event_types(["points.earned"])  # the internal name is not the public one
    assert (unknown.value.code, unknown.value.field) == (ErrorCode.INVALID, "eventTypes")


def test_an_endpoint_names_at_most_the_limit_of_event_types() -> None:
    with pytest.raises(UserError) as too_many:
        check_event_types(["PointsEarned"] * (MAX_EVENT_TYPES + 1))
    assert (too_many.value.code, too_many.value.field) == (ErrorCode.TOO_LONG, "eventTypes")
    assert check_event_types(["PointsEarned"] * MAX_EVENT_TYPES) == ("PointsEarned",)


def test_an_endpoint_wants_only_its_types_and_nothing_while_disabled() -> None:
    only_tiers = endpoint(event_types=("TierChanged",))
    assert only_tiers.wants("TierChanged") and not only_tiers.wants("PointsEarned")
    assert endpoint().wants("PointsEarned")
    assert not endpoint(event_types=("TierChanged",), enabled=False).wants("TierChanged")


def test_a_rotation_keeps_the_previous_secret_exactly_for_the_overlap() -> None:
    secrets, new = rotated(FIRST, NOW)
    rotating = endpoint(secrets=secrets)
    assert rotating.active_secrets(NOW + ROTATION_OVERLAP - timedelta(seconds=1)) == [new, FIRST[0]["secret"]]
    assert rotating.active_secrets(NOW + ROTATION_OVERLAP) == [new]


def test_a_second_rotation_drops_the_secret_whose_overlap_it_replaces() -> None:
    once, second = rotated(FIRST, NOW)
    twice, third = rotated(once, NOW + timedelta(hours=1))
    assert [s["secret"] for s in twice] == [third, second]
    assert endpoint(secrets=twice).active_secrets(NOW + timedelta(hours=2)) == [third, second]
