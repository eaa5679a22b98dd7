"""Events as they really come out of DynamoDB Local's stream, after real changes, make envelopes the
versioned JSON Schema accepts, with the outbox id and the change's own time."""
from __future__ import annotations

import json
import uuid
from datetime import date, datetime, timezone
from pathlib import Path

import jsonschema

from domain.events_out import catalog
from domain.members import Enrollment
from infra.events.model import Env, Event
from infra.events.processor import Processor, env_factory
from infra.events.stream import StreamReader
from infra.events_out.publication import published as publication_of
from infra.members import Members
from infra.points.adjustments import ActionCredits
from infra.points.orders import OrderBook
from infra.points.program_store import ProgramStore
from infra.points.welcome import Welcome
from tests.support import new_tenant

SCHEMA = json.loads((Path(__file__).resolve().parents[2] / catalog.SCHEMA_PATH).read_text())


class Collector:
    name = "test-envelopes"
    event_types = frozenset(catalog.PUBLIC) | frozenset(catalog.PRIVATE)

    def __init__(self, tenant: str) -> None:
        self.tenant = tenant
        self.seen: list[Event] = []

    def handle(self, event: Event, env: Env) -> None:
        if event.tenant == self.tenant:
            self.seen.append(event)


def test_an_enrollment_with_a_referral_publishes_envelopes_the_schema_accepts(services, stream_of_table):
    tenant = new_tenant()
    collector = Collector(tenant)
    client, arn = stream_of_table
    processor = Processor(env_factory(services.programs), [collector],
                          reader=StreamReader(client, arn, start="LATEST"))
    store = ProgramStore(tenant, services.programs)
    orders = OrderBook(tenant, store)
    members, welcome = Members(tenant), Welcome(tenant, store, orders, ActionCredits(tenant, store, orders))
    now = datetime.now(timezone.utc)
    referrer, friend = f"m-{uuid.uuid4().hex[:8]}", f"m-{uuid.uuid4().hex[:8]}"
    members.enroll(referrer, Enrollment("Ren", f"{referrer}@example.com", None, False), now.isoformat(),
                   int(now.timestamp()))
    joined = members.enroll(friend, Enrollment("Mio", f"{friend}@example.com", date(1990, 5, 1), True, locale="ja-JP"),
                            now.isoformat(), int(now.timestamp()))
    welcome.enrolled(joined, referrer, now)
    processor.drain()

    env_now = env_factory(services.programs)()
    made = [(e, publication_of(e, env_now)) for e in collector.seen]
    published_ = [(e, p.envelope) for e, p in made if p is not None]
    again = [publication_of(e, env_now) for e in collector.seen]  # decided once: the same envelope every time
    assert [p.envelope for p in again if p is not None] == [env for _, env in published_]
    published = published_
    types = {env["type"] for _, env in published}
    assert {"MemberEnrolled", "ReferralSucceeded"} <= types, collector.seen
    validator = jsonschema.Draft202012Validator(SCHEMA, format_checker=jsonschema.FormatChecker())
    for event, env in published:
        validator.validate(env)
        assert env["id"] == event.event_id and env["tenant"] == tenant
        assert env["occurredAt"].startswith(now.strftime("%Y-%m-%dT%H:%M"))  # the change's time, not the send's
    assert len({env["id"] for _, env in published}) == len(published)
    by_member: dict[str, list[int]] = {}
    for _, env in published:
        by_member.setdefault(env["memberId"], []).append(env["sequence"])
    assert all(seqs == list(range(1, len(seqs) + 1)) for seqs in by_member.values()), by_member
    consents = {env["memberId"]: env["member"] for _, env in published}
    assert consents[friend]["marketingConsent"] is True and consents[friend]["email"] == f"{friend}@example.com"
    assert consents[referrer] == {"marketingConsent": False, "tier": None, "locale": None, "pointsAvailable": consents[
        referrer]["pointsAvailable"]}  # no name, no email without consent
    assert consents[friend]["locale"] == "ja-JP"


def test_a_badge_award_and_a_vip_registration_are_published_with_the_badge_name_and_the_event_title(services):
    from datetime import timedelta

    from domain.badges.definitions import Badge
    from domain.vip_events.model import VipEvent
    from infra.badges.store import BadgeStore
    from infra.vip_events.catalog import EventCatalog
    tenant = new_tenant()
    store = ProgramStore(tenant, services.programs)
    now = datetime.now(timezone.utc)
    BadgeStore(tenant, store).save(Badge(id="first-order", name="First order", criterion=None,
                                         image_url="https://img.example/first.png"), "test", now, existing=None)
    EventCatalog(tenant, store).save(VipEvent(event_id="ev-1", title="Spring preview", venue="Ginza", capacity=5,
                                              starts_at=now + timedelta(days=3), ends_at=now + timedelta(days=3, hours=2)),
                                     "test", now, existing=None)
    env = env_factory(services.programs)()
    members = Members(tenant)
    members.enroll("m-rich", Enrollment("Mio", "m-rich@example.com", None, False), now.isoformat(), int(now.timestamp()))
    badge = Event(tenant, "m-rich", "01JEQ8R6ZK4T7W2N5B9C3D0F1G", "badge.awarded", now, {"badgeId": "first-order"})
    vip = Event(tenant, "m-rich", "01JEQ8R6ZK4T7W2N5B9C3D0F1H", "vip_event.registered", now,
                {"eventId": "ev-1", "pointsPaid": 0})
    badge_data = publication_of(badge, env).envelope["data"]
    vip_data = publication_of(vip, env).envelope["data"]
    assert (badge_data["badgeId"], badge_data["badgeName"], badge_data["badgeImageUrl"]) == (
        "first-order", "First order", "https://img.example/first.png")
    assert (vip_data["title"], vip_data["venue"], vip_data["pointsPaid"]) == ("Spring preview", "Ginza", 0)
    jsonschema.Draft202012Validator(SCHEMA, format_checker=jsonschema.FormatChecker()).validate(
        publication_of(vip, env).envelope)
