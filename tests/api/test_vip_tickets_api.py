"""VIP tickets, check-in at the door, cancelling an event and the no-show settings, through GraphQL."""
from __future__ import annotations

import uuid
from dataclasses import replace
from datetime import datetime, timedelta
from typing import Iterator

import pytest

from domain.vip_events.model import VipEvent
from infra.items import TableItem
from infra.points.program_store import ProgramStore
from infra.vip_events.catalog import EventCatalog
from infra.vip_events.jobs import VipEventJobs
from infra.vip_events.registrations import Registrations
from tests.api.test_storefront import NOW, Shop
from tests.conftest import enroll

TICKETS = """query T($f: Int, $a: String) { me { eventTickets(first: $f, after: $a) {
  edges { cursor node { id eventId state code pointsPaid waitlistPosition event { title } } }
  pageInfo { hasNextPage hasPreviousPage startCursor endCursor } } } }"""
CHECK_IN = """mutation C($code: String!, $scan: String!) { eventCheckIn(code: $code, scanId: $scan) {
  checkIn { outcome eventId memberId checkedInAt checkedInBy pointsCredited badgeId replayed }
  ticket { state checkedInAt } member { points { available } } userErrors { field code message } } }"""
NODE = "query N($id: ID!) { node(id: $id) { __typename ... on EventTicket { state code } } }"
CANCEL = """mutation X($e: ID!, $r: String!) { vipEventCancel(eventId: $e, reason: $r) {
  cancellation { eventId cancelledBy reason refundsPending registrationsEnded pointsRefunded }
  event { status } userErrors { field code } } }"""
SETTINGS = """mutation S($input: VipEventSettingsInput!) { vipEventSettingsSet(input: $input) {
  settings { forfeitNoShowPoints noShowLimit noShowWindowDays noShowBlockDays } userErrors { field code } } }"""


class Door(Shop):
    """A shop with event staff, events saved and members registered by the registration code itself."""

    def __init__(self, *args) -> None:
        super().__init__(*args)
        self.door = self.anonymous.as_(self.idp.staff_token("door-1", "kizuna-event-staff"))
        self.moderator = self.anonymous.as_(self.idp.staff_token("mod-1", "kizuna-moderators"))
        self.programs = ProgramStore(self.tenant, self.api.services.programs)

    def event(self, **kw) -> VipEvent:
        defaults = {"capacity": 10, "starts_at": NOW + timedelta(days=2), "ends_at": NOW + timedelta(days=2, hours=3)}
        e = VipEvent(event_id=f"ev-{uuid.uuid4().hex[:8]}", title="Atelier evening", venue="Ginza", **{**defaults, **kw})
        return EventCatalog(self.tenant, self.programs).save(e, "test", NOW - timedelta(days=1), existing=None)

    def registered(self, event: VipEvent, points: int = 0):
        client = self.member(points)
        member_id = client.ok("{ me { memberId } }")["me"]["memberId"]
        Registrations(self.tenant, self.programs).register(member_id, event.event_id, NOW)
        return client, member_id

    def code(self, client) -> str:
        edges = client.ok(TICKETS, {"f": 10})["me"]["eventTickets"]["edges"]
        return next(e["node"]["code"] for e in edges if e["node"]["code"])


@pytest.fixture
def shop(dynamodb_endpoint, table_name, services, idp) -> Iterator[Door]:
    del services  # the table exists
    bound = TableItem._connection  # as own_tenant: the session's client is given back afterwards
    try:
        yield Door(dynamodb_endpoint, table_name, idp)
    finally:
        TableItem._connection = bound


def at_the_door(shop: Door, event: VipEvent) -> None:
    shop.now = event.starts_at - timedelta(minutes=30)


def test_a_member_reads_their_tickets_with_the_code_only_for_a_confirmed_seat(shop):
    full = shop.event(capacity=1)
    shop.registered(full)
    client = shop.member()
    me = client.ok("{ me { memberId } }")["me"]["memberId"]
    registrations = Registrations(shop.tenant, shop.programs)
    registrations.register(me, full.event_id, NOW)  # waitlisted behind one other
    other = shop.event(starts_at=NOW + timedelta(days=5), ends_at=NOW + timedelta(days=5, hours=2))
    registrations.register(me, other.event_id, NOW)
    nodes = [e["node"] for e in client.ok(TICKETS, {"f": 10})["me"]["eventTickets"]["edges"]]
    assert [(n["eventId"], n["state"], n["waitlistPosition"], n["event"]["title"]) for n in nodes] == [
        (full.event_id, "WAITLISTED", 1, "Atelier evening"), (other.event_id, "CONFIRMED", None, "Atelier evening")]
    assert nodes[0]["code"] is None and len(nodes[1]["code"]) == 24  # 18 random bytes, URL-safe base64


def test_a_ticket_shows_the_start_the_event_has_now_after_staff_move_it(shop):
    event = shop.event()
    client, _ = shop.registered(event)
    moved = replace(event, starts_at=event.starts_at + timedelta(days=3), ends_at=event.ends_at + timedelta(days=3))
    catalog = EventCatalog(shop.tenant, shop.programs)
    catalog.save(moved, "test", NOW, existing=catalog.item(event.event_id))
    ticket = client.ok("{ me { eventTickets(first: 5) { nodes { startsAt } } } }")["me"]["eventTickets"]["nodes"][0]
    assert datetime.fromisoformat(ticket["startsAt"]) == moved.starts_at


def test_event_tickets_pages_and_a_page_ending_exactly_at_the_end_has_no_next_page(shop):
    client = shop.member()
    me = client.ok("{ me { memberId } }")["me"]["memberId"]
    for days in (3, 4, 5):
        e = shop.event(starts_at=NOW + timedelta(days=days), ends_at=NOW + timedelta(days=days, hours=1))
        Registrations(shop.tenant, shop.programs).register(me, e.event_id, NOW)
    whole = client.ok(TICKETS, {"f": 3})["me"]["eventTickets"]
    assert len(whole["edges"]) == 3 and whole["pageInfo"]["hasNextPage"] is False
    part = client.ok(TICKETS, {"f": 2})["me"]["eventTickets"]
    assert len(part["edges"]) == 2 and part["pageInfo"]["hasNextPage"] is True
    rest = client.ok(TICKETS, {"f": 2, "a": part["pageInfo"]["endCursor"]})["me"]["eventTickets"]
    assert len(rest["edges"]) == 1 and rest["pageInfo"]["hasNextPage"] is False
    assert len({e["node"]["id"] for e in whole["edges"]}) == 3


def test_a_ticket_is_read_by_its_member_and_staff_never_by_another_member_and_only_its_member_sees_the_code(shop):
    event = shop.event()
    owner, _ = shop.registered(event)
    ticket = owner.ok(TICKETS, {"f": 1})["me"]["eventTickets"]["edges"][0]["node"]
    assert owner.ok(NODE, {"id": ticket["id"]})["node"] == {"__typename": "EventTicket", "state": "CONFIRMED",
                                                            "code": ticket["code"]}
    assert shop.door.ok(NODE, {"id": ticket["id"]})["node"] == {"__typename": "EventTicket", "state": "CONFIRMED",
                                                                "code": None}
    stranger = shop.member()
    assert stranger.ok(NODE, {"id": ticket["id"]}) == {"node": None}


def test_event_staff_check_a_ticket_in_once_and_the_same_scan_retried_replays_it(shop):
    event = shop.event(attendance_points=120)
    client, member_id = shop.registered(event)
    code = shop.code(client)
    at_the_door(shop, event)
    first = shop.door.ok(CHECK_IN, {"code": code, "scan": "door-1-0001"})["eventCheckIn"]
    assert first["userErrors"] == []
    assert (first["checkIn"]["outcome"], first["checkIn"]["memberId"], first["checkIn"]["pointsCredited"],
            first["checkIn"]["checkedInBy"], first["checkIn"]["replayed"]) == (
        "CHECKED_IN", member_id, 120, "staff:door-1", False)
    assert first["ticket"]["state"] == "ATTENDED" and first["member"]["points"]["available"] == 120
    again = shop.door.ok(CHECK_IN, {"code": code, "scan": "door-1-0001"})["eventCheckIn"]
    assert again["checkIn"] == {**first["checkIn"], "replayed": True} and again["userErrors"] == []
    assert client.ok("{ me { points { available } } }")["me"]["points"]["available"] == 120
    assert client.ok(TICKETS, {"f": 1})["me"]["eventTickets"]["edges"][0]["node"]["code"] is None  # used


def test_a_different_scan_of_a_used_ticket_answers_already_checked_in_with_when_and_by_whom(shop):
    event = shop.event(attendance_points=10)
    client, _ = shop.registered(event)
    code = shop.code(client)
    at_the_door(shop, event)
    shop.door.ok(CHECK_IN, {"code": code, "scan": "a-1"})
    shop.now += timedelta(minutes=7)
    other_door = shop.anonymous.as_(shop.idp.staff_token("door-2", "kizuna-event-staff"))
    later = other_door.ok(CHECK_IN, {"code": code, "scan": "b-1"})["eventCheckIn"]
    assert [e["code"] for e in later["userErrors"]] == ["ALREADY_CHECKED_IN"]
    assert (later["checkIn"]["outcome"], later["checkIn"]["checkedInBy"], later["checkIn"]["pointsCredited"]) == (
        "ALREADY_CHECKED_IN", "staff:door-1", 0)
    assert later["checkIn"]["checkedInAt"] == (shop.now - timedelta(minutes=7)).isoformat()
    assert "staff:door-1" in later["userErrors"][0]["message"]


def test_members_and_moderators_may_not_check_in_staff_may_not_check_themselves_in_and_unknown_codes_are_not_found(shop):
    event = shop.event()
    client, _ = shop.registered(event)
    code = shop.code(client)
    at_the_door(shop, event)
    assert client(CHECK_IN, {"code": code, "scan": "m-1"}).error_codes() == ["FORBIDDEN"]
    assert shop.moderator(CHECK_IN, {"code": code, "scan": "m-2"}).error_codes() == ["FORBIDDEN"]
    unknown = shop.door.ok(CHECK_IN, {"code": "AAAAAAAAAAAAAAAAAAAAAAAA", "scan": "d-1"})["eventCheckIn"]
    assert [e["code"] for e in unknown["userErrors"]] == ["NOT_FOUND"] and unknown["checkIn"] is None
    bad = shop.door(CHECK_IN, {"code": "not a code!", "scan": "d-2"})
    assert bad.body["data"]["eventCheckIn"]["userErrors"] == [
        {"field": "code", "code": "INVALID", "message": "A ticket code has characters that are not allowed."}]
    # a member of staff with a ticket of their own
    self_staff = shop.anonymous.as_(shop.idp.member_token("door-1"))
    enroll(self_staff)
    Registrations(shop.tenant, shop.programs).register("door-1", event.event_id, NOW - timedelta(hours=1))
    own = shop.code(self_staff)
    refused = shop.door.ok(CHECK_IN, {"code": own, "scan": "d-3"})["eventCheckIn"]
    assert [e["code"] for e in refused["userErrors"]] == ["SELF_CHECK_IN"]
    assert self_staff.ok(TICKETS, {"f": 1})["me"]["eventTickets"]["edges"][0]["node"]["state"] == "CONFIRMED"


def test_checking_in_feeds_the_vip_events_attended_badge_once(shop, events):
    assert shop.admin.ok("""mutation { badgeSave(input: {id: "first-vip", name: "First VIP",
        criterion: {kind: VIP_EVENTS_ATTENDED, count: 1}}) { userErrors { code } } }""")["badgeSave"]["userErrors"] == []
    event = shop.event()
    client, _ = shop.registered(event)
    code = shop.code(client)
    at_the_door(shop, event)
    shop.door.ok(CHECK_IN, {"code": code, "scan": "p-1"})
    shop.door.ok(CHECK_IN, {"code": code, "scan": "p-2"})
    events.drain()
    held = client.ok("{ me { badges(first: 10) { nodes { badge { badgeId } earnedAt } } } }")["me"]["badges"]["nodes"]
    assert [b["badge"]["badgeId"] for b in held if b["earnedAt"]] == ["first-vip"]


def test_staff_cancel_an_event_members_are_refunded_and_the_job_finishes_what_the_request_left(shop):
    event = shop.event(points_cost=40, capacity=40)
    paid = [shop.registered(event, points=40) for _ in range(30)]
    assert paid[0][0](CANCEL, {"e": event.event_id, "r": "Storm"}).error_codes() == ["FORBIDDEN"]
    out = shop.door.ok(CANCEL, {"e": event.event_id, "r": "Storm"})["vipEventCancel"]
    assert out["userErrors"] == [] and out["event"]["status"] == "CANCELLED"
    assert out["cancellation"] == {"eventId": event.event_id, "cancelledBy": "staff:door-1", "reason": "Storm",
                                   "refundsPending": True, "registrationsEnded": 25, "pointsRefunded": 25 * 40}
    report = VipEventJobs(shop.tenant, shop.programs).cancellations(NOW + timedelta(minutes=5))
    assert (report.processed, report.complete) == (5, True)
    progress = '{ vipEvent(id: "%s") { status cancellation { refundsPending registrationsEnded pointsRefunded } } }' % (
        event.event_id)
    assert shop.door.ok(progress)["vipEvent"] == {"status": "CANCELLED", "cancellation": {
        "refundsPending": False, "registrationsEnded": 30, "pointsRefunded": 30 * 40}}
    assert paid[0][0].ok(progress)["vipEvent"] == {"status": "CANCELLED", "cancellation": None}
    assert all(c.ok("{ me { points { available } } }")["me"]["points"]["available"] == 40 for c, _ in paid)
    again = shop.door.ok(CANCEL, {"e": event.event_id, "r": "Storm"})["vipEventCancel"]
    assert [e["code"] for e in again["userErrors"]] == ["ALREADY_CANCELLED"]
    audit = shop.admin.ok("{ auditTrail(first: 100) { nodes { action reason } } }")["auditTrail"]["nodes"]
    assert {"action": "vip_event.cancel", "reason": "Storm"} in audit


def test_admins_set_the_no_show_policy_every_problem_at_once_and_others_may_not(shop):
    out = shop.admin.ok(SETTINGS, {"input": {"forfeitNoShowPoints": False, "noShowLimit": 3}})["vipEventSettingsSet"]
    assert out == {"settings": {"forfeitNoShowPoints": False, "noShowLimit": 3, "noShowWindowDays": 180,
                                "noShowBlockDays": 90}, "userErrors": []}
    bad = shop.admin.ok(SETTINGS, {"input": {"noShowLimit": 0, "noShowWindowDays": 0, "noShowBlockDays": 9999}})
    assert sorted(e["field"] for e in bad["vipEventSettingsSet"]["userErrors"]) == [
        "noShowBlockDays", "noShowLimit", "noShowWindowDays"]
    cleared = shop.admin.ok(SETTINGS, {"input": {"noShowLimit": None}})["vipEventSettingsSet"]["settings"]
    assert (cleared["noShowLimit"], cleared["forfeitNoShowPoints"]) == (None, False)
    assert shop.door(SETTINGS, {"input": {"noShowLimit": 1}}).error_codes() == ["FORBIDDEN"]
    read = "{ vipEventSettings { forfeitNoShowPoints noShowLimit noShowWindowDays noShowBlockDays } }"
    assert shop.door.ok(read)["vipEventSettings"] == cleared  # staff read what admins set
    assert shop.member()(read).error_codes() == ["FORBIDDEN"]


def test_a_page_of_tickets_costs_one_query_and_cancelling_one_transaction_per_registration_ended(shop):
    from tests.integration.test_vip_checkin import dynamodb_calls
    client = shop.member()
    me = client.ok("{ me { memberId } }")["me"]["memberId"]
    events = [shop.event(starts_at=NOW + timedelta(days=d), ends_at=NOW + timedelta(days=d, hours=1), points_cost=0)
              for d in (3, 4, 5)]
    for e in events:
        Registrations(shop.tenant, shop.programs).register(me, e.event_id, NOW)
    page = dynamodb_calls(lambda: client.ok("query { me { eventTickets(first: 10) { nodes { state code } } } }"))
    assert page == ["Query", "Query"]  # `me` itself (the member's dashboard), then the tickets page
    calls = dynamodb_calls(lambda: shop.door.ok(CANCEL, {"e": events[0].event_id, "r": "Closed"}))
    assert calls.count("TransactWriteItems") == 2  # the cancellation, then the one registration it ended
