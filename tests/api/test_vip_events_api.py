"""VIP events through GraphQL: staff define events (every problem at once, audited), members see what they may
register for and why not, register (CONFIRMED and charged, or WAITLISTED), cancel (refund by the copied policy,
the seat to the waitlist), accept offers; windows, tiers, invitations and no-show blocks refused on the server."""
from __future__ import annotations

import json
from datetime import timedelta
from typing import Iterator

import pytest

from infra import keys
from infra.vip_events.items import MemberVipStats
from tests.api.test_payloads import dynamodb_calls
from tests.api.test_storefront import Shop, own_tenant

SAVE = """mutation S($input: VipEventInput!) { vipEventSave(input: $input) {
  vipEvent { id eventId title capacity seatsLeft status pointsCost } userErrors { field code message } } }"""
REGISTER = """mutation R($e: ID!) { eventRegister(eventId: $e) { state
  registration { state pointsPaid waitlistNumber } vipEvent { seatsLeft waitlisted }
  member { points { available } } userErrors { field code } } }"""
CANCEL = """mutation C($e: ID!, $m: ID, $r: String) { eventCancelRegistration(eventId: $e, memberId: $m, reason: $r) {
  refunded seatPassedOn registration { state reason } vipEvent { seatsLeft waitlisted } userErrors { field code } } }"""
ACCEPT = """mutation A($e: ID!) { eventOfferAccept(eventId: $e) { registration { state pointsPaid }
  member { points { available } } userErrors { field code } } }"""
INVITE = """mutation I($e: ID!, $m: [ID!]!) { eventInvite(eventId: $e, memberIds: $m) { invited userErrors { field code } } }"""
LIST = """query($f: Int, $a: String) { vipEvents(first: $f, after: $a) { edges { cursor node { eventId title seatsLeft
  eligibility { eligible reason } myRegistration { state waitlistNumber } } } pageInfo { hasNextPage endCursor } } }"""
LADDER = """mutation L($input: TierLadderInput!) { tierLadderSet(input: $input) { userErrors { field code } } }"""
TIERS = {"tiers": [{"id": "silver", "name": "Silver", "rank": 1, "threshold": "0"},
                   {"id": "gold", "name": "Gold", "rank": 2, "threshold": "5000",
                    "benefits": [{"type": "EARLY_ACCESS", "hours": 48}]}]}
SET_TIER = """mutation S($m: ID!, $t: ID!) { memberTierSet(memberId: $m, tierId: $t, mode: OVERRIDE, reason: "vip") {
  userErrors { field code } } }"""


@pytest.fixture
def shop(dynamodb_endpoint, table_name, services, idp) -> Iterator[Shop]:
    del services  # the table exists
    for s in own_tenant(dynamodb_endpoint, table_name, idp):
        s.staff = s.anonymous.as_(idp.staff_token("door-staff", "kizuna-event-staff"))
        s.moderator = s.anonymous.as_(idp.staff_token("mod", "kizuna-moderators"))
        yield s


def event_input(shop: Shop, event_id: str, **extra) -> dict:
    return {"id": event_id, "title": "Atelier night", "venue": "Ginza flagship",
            "startsAt": (shop.now + timedelta(days=10)).isoformat(),
            "endsAt": (shop.now + timedelta(days=10, hours=3)).isoformat(), "capacity": 2, **extra}


def save(shop: Shop, event_id: str, **extra) -> dict:
    out = shop.staff.ok(SAVE, {"input": event_input(shop, event_id, **extra)})["vipEventSave"]
    assert out["userErrors"] == [], out
    return out["vipEvent"]


def member_id(client) -> str:
    return client.ok("{ me { memberId } }")["me"]["memberId"]


def register(client, event_id: str) -> dict:
    return client.ok(REGISTER, {"e": event_id})["eventRegister"]


def codes(payload: dict) -> list[str]:
    return [e["code"] for e in payload["userErrors"]]


def with_tiers(shop: Shop) -> None:
    assert shop.admin.ok(LADDER, {"input": TIERS})["tierLadderSet"]["userErrors"] == []


def tiered(shop: Shop, tier: str, points: int = 0):
    client = shop.member(points=points)
    assert shop.admin.ok(SET_TIER, {"m": member_id(client), "t": tier})["memberTierSet"]["userErrors"] == []
    return client


def test_event_staff_create_and_change_an_event_and_every_problem_is_answered_at_once(shop):
    created = save(shop, "spring", pointsCost=30)
    assert created == {"id": created["id"], "eventId": "spring", "title": "Atelier night", "capacity": 2, "seatsLeft": 2,
                       "status": "SCHEDULED", "pointsCost": 30}
    bad = shop.staff.ok(SAVE, {"input": {"id": "broken", "capacity": 0, "pointsCost": -1, "minTierRank": 3,
                                          "startsAt": (shop.now + timedelta(days=2)).isoformat(),
                                          "cancellationPolicy": {"refundUntilHours": 24, "refundPercent": 150}}})
    assert {(e["field"], e["code"]) for e in bad["vipEventSave"]["userErrors"]} == {
        ("title", "REQUIRED"), ("endsAt", "REQUIRED"), ("capacity", "OUT_OF_RANGE"), ("pointsCost", "OUT_OF_RANGE"),
        ("minTierRank", "INVALID"), ("cancellationPolicy.refundPercent", "OUT_OF_RANGE"), ("venue", "REQUIRED")}
    changed = shop.staff.ok(SAVE, {"input": {"id": "spring", "title": "Spring atelier", "capacity": 5}})["vipEventSave"]
    assert changed["userErrors"] == [] and changed["vipEvent"]["title"] == "Spring atelier"
    assert changed["vipEvent"]["pointsCost"] == 30  # left out: kept
    trail = [e["node"] for e in shop.admin.ok("{ auditTrail(first: 5) { edges { node { action detail actor } } } }")[
        "auditTrail"]["edges"]]
    saves = [json.loads(t["detail"]) if isinstance(t["detail"], str) else t["detail"]
             for t in trail if t["action"] == "vip_event.save"]
    assert len(saves) == 2 and all(t["actor"] == "staff:door-staff" for t in trail if t["action"] == "vip_event.save")
    detail = next(d for d in saves if d["before"] is not None)  # both were written at the same instant
    assert detail["before"] == {"title": "Atelier night", "capacity": 2}
    assert detail["after"] == {"title": "Spring atelier", "capacity": 5}
    for caller in (shop.member(), shop.moderator):
        assert caller(SAVE, {"input": event_input(shop, "nope")}).error_codes() == ["FORBIDDEN"]


def test_a_member_is_confirmed_and_charged_then_waitlisted_when_full_and_never_registered_twice(shop):
    save(shop, "gala", pointsCost=30, capacity=1)
    first, second = shop.member(points=100), shop.member(points=100)
    out = register(first, "gala")
    assert out["state"] == "CONFIRMED" and out["userErrors"] == []
    assert out["registration"] == {"state": "CONFIRMED", "pointsPaid": 30, "waitlistNumber": None}
    assert out["member"]["points"]["available"] == 70 and out["vipEvent"] == {"seatsLeft": 0, "waitlisted": 0}
    assert codes(register(first, "gala")) == ["ALREADY_REGISTERED"]
    waiting = register(second, "gala")
    assert waiting["state"] == "WAITLISTED" and waiting["registration"]["waitlistNumber"] == 1
    assert waiting["member"]["points"]["available"] == 100  # the waitlist pays nothing until a seat is had
    assert codes(register(shop.member(), "nowhere")) == ["NOT_FOUND"]


def test_not_enough_points_refuses_the_seat_and_writes_nothing(shop):
    save(shop, "dinner", pointsCost=50)
    poor = shop.member(points=20)
    out = register(poor, "dinner")
    assert codes(out) == ["INSUFFICIENT_POINTS"] and out["state"] is None
    assert poor.ok(LIST, {"f": 5})["vipEvents"]["edges"][0]["node"]["myRegistration"] is None
    assert poor.ok("{ me { points { available } } }")["me"]["points"]["available"] == 20


def test_the_window_opens_early_for_an_early_access_tier_and_closes_on_the_server(shop):
    with_tiers(shop)
    opens = shop.now + timedelta(hours=24)
    save(shop, "preview", registrationOpensAt=opens.isoformat(),
         registrationClosesAt=(shop.now + timedelta(days=5)).isoformat())
    silver, gold = tiered(shop, "silver"), tiered(shop, "gold")
    listed = silver.ok(LIST, {"f": 5})["vipEvents"]["edges"][0]["node"]
    assert listed["eligibility"] == {"eligible": False, "reason": "NOT_OPEN_YET"}
    assert gold.ok(LIST, {"f": 5})["vipEvents"]["edges"][0]["node"]["eligibility"] == {"eligible": True, "reason": None}
    assert codes(register(silver, "preview")) == ["NOT_OPEN_YET"]
    assert register(gold, "preview")["state"] == "CONFIRMED"  # 48 hours early: inside its window
    shop.now = opens + timedelta(minutes=1)
    assert register(silver, "preview")["state"] == "CONFIRMED"
    shop.now = shop.now + timedelta(days=5)
    late = shop.member()
    assert codes(register(late, "preview")) == ["REGISTRATION_CLOSED"]
    assert late.ok(LIST, {"f": 5})["vipEvents"]["edges"][0]["node"]["eligibility"] == {"eligible": False,
                                                                                      "reason": "CLOSED"}


def test_a_tier_gate_and_an_invitation_list_are_conditions_of_the_registration(shop):
    with_tiers(shop)
    save(shop, "gold-only", minTierRank=2)
    save(shop, "private", invitedOnly=True, startsAt=(shop.now + timedelta(days=11)).isoformat(),
         endsAt=(shop.now + timedelta(days=11, hours=2)).isoformat())
    silver, gold = tiered(shop, "silver"), tiered(shop, "gold")
    assert codes(register(silver, "gold-only")) == ["TIER_REQUIRED"]
    assert register(gold, "gold-only")["state"] == "CONFIRMED"
    reasons = {e["node"]["eventId"]: e["node"]["eligibility"]["reason"] for e in silver.ok(LIST, {"f": 5})["vipEvents"]["edges"]}
    assert reasons == {"gold-only": "TIER_REQUIRED", "private": "NOT_INVITED"}
    assert codes(register(silver, "private")) == ["NOT_INVITED"]
    assert silver(INVITE, {"e": "private", "m": [member_id(silver)]}).error_codes() == ["FORBIDDEN"]
    out = shop.staff.ok(INVITE, {"e": "private", "m": [member_id(silver)]})["eventInvite"]
    assert out == {"invited": 1, "userErrors": []}
    assert register(silver, "private")["state"] == "CONFIRMED"


def test_a_no_show_block_refuses_registrations_until_it_ends(shop):
    save(shop, "tasting")
    member = shop.member()
    until = shop.now + timedelta(days=3)
    MemberVipStats(keys.member_pk(shop.tenant, member_id(member)), keys.VIP_STATS_SK, no_shows=2,
                   blocked_until=until.isoformat()).save()
    assert member.ok(LIST, {"f": 5})["vipEvents"]["edges"][0]["node"]["eligibility"]["reason"] == "NO_SHOW_LIMIT"
    assert codes(register(member, "tasting")) == ["NO_SHOW_LIMIT"]
    shop.now = until + timedelta(seconds=1)
    assert register(member, "tasting")["state"] == "CONFIRMED"


def test_cancelling_refunds_by_the_copied_policy_and_passes_the_seat_to_the_waitlist_and_rejoining_goes_last(shop):
    save(shop, "salon", capacity=1, pointsCost=40, cancellationPolicy={"refundUntilHours": 48, "refundPercent": 50})
    seated, next_, last = shop.member(points=100), shop.member(points=100), shop.member(points=100)
    for m in (seated, next_, last):
        register(m, "salon")
    # A later edit of the policy changes nothing of what the registrations were promised.
    shop.staff.ok(SAVE, {"input": {"id": "salon", "cancellationPolicy": {"refundUntilHours": 0, "refundPercent": 0}}})
    out = seated.ok(CANCEL, {"e": "salon"})["eventCancelRegistration"]
    assert out["userErrors"] == [] and out["refunded"] == 20 and out["seatPassedOn"] is True
    assert out["registration"]["state"] == "CANCELLED" and out["vipEvent"] == {"seatsLeft": 0, "waitlisted": 1}
    assert seated.ok("{ me { points { available } } }")["me"]["points"]["available"] == 80
    assert next_.ok("{ me { points { available } } }")["me"]["points"]["available"] == 60  # charged on promotion
    again = register(seated, "salon")  # re-joining: behind everyone already waiting
    assert again["state"] == "WAITLISTED" and again["registration"]["waitlistNumber"] == 3
    shop.now = shop.now + timedelta(days=9)  # within 48 hours of the start: nothing back
    out = next_.ok(CANCEL, {"e": "salon"})["eventCancelRegistration"]
    assert out["refunded"] == 0 and out["seatPassedOn"] is True
    states = {e["node"]["myRegistration"]["state"] for e in last.ok(LIST, {"f": 5})["vipEvents"]["edges"]}
    assert states == {"CONFIRMED"}  # the one who waited longer got it, not the re-joined member
    assert codes(next_.ok(CANCEL, {"e": "salon"})["eventCancelRegistration"]) == ["NOT_REGISTERED"]


def test_staff_cancel_for_a_member_with_a_reason_audited_and_a_member_cannot_cancel_another(shop):
    save(shop, "launch")
    member, other = shop.member(), shop.member()
    register(member, "launch")
    theirs = {"e": "launch", "m": member_id(member)}
    assert codes(other.ok(CANCEL, theirs)["eventCancelRegistration"]) == ["FORBIDDEN"]
    assert codes(shop.staff.ok(CANCEL, theirs)["eventCancelRegistration"]) == ["REQUIRED"]
    out = shop.staff.ok(CANCEL, {**theirs, "r": "asked by phone"})["eventCancelRegistration"]
    assert out["userErrors"] == [] and out["registration"]["state"] == "CANCELLED"
    trail = [e["node"] for e in shop.admin.ok("{ auditTrail(first: 5) { edges { node { action reason } } } }")[
        "auditTrail"]["edges"]]
    assert {"action": "vip_event.registration_cancel", "reason": "asked by phone"} in trail


def test_the_capacity_never_goes_below_the_seats_taken_and_new_seats_go_to_the_waitlist(shop):
    save(shop, "workshop", capacity=1)
    a, b, c = shop.member(), shop.member(), shop.member()
    for m in (a, b, c):
        register(m, "workshop")
    assert register(a, "workshop")["userErrors"] == [{"field": "eventId", "code": "ALREADY_REGISTERED"}]
    shrink = shop.staff.ok(SAVE, {"input": {"id": "workshop", "capacity": 0}})["vipEventSave"]["userErrors"]
    assert [(e["field"], e["code"]) for e in shrink] == [("capacity", "OUT_OF_RANGE")]
    grown = shop.staff.ok(SAVE, {"input": {"id": "workshop", "capacity": 2}})["vipEventSave"]
    assert grown["userErrors"] == [] and grown["vipEvent"]["seatsLeft"] == 0  # b took the new seat at once
    assert b.ok(LIST, {"f": 5})["vipEvents"]["edges"][0]["node"]["myRegistration"]["state"] == "CONFIRMED"
    assert c.ok(LIST, {"f": 5})["vipEvents"]["edges"][0]["node"]["myRegistration"] == {"state": "WAITLISTED",
                                                                                     "waitlistNumber": 2}


def test_an_offered_seat_is_accepted_within_its_hold_and_charged_then(shop):
    save(shop, "fitting", capacity=1, pointsCost=25, offerMode="HOLD", offerHoldHours=12)
    seated, waiting = shop.member(points=50), shop.member(points=50)
    register(seated, "fitting")
    register(waiting, "fitting")
    seated.ok(CANCEL, {"e": "fitting"})
    node = waiting.ok(LIST, {"f": 5})["vipEvents"]["edges"][0]["node"]
    assert node["myRegistration"]["state"] == "OFFERED" and node["seatsLeft"] == 0
    out = waiting.ok(ACCEPT, {"e": "fitting"})["eventOfferAccept"]
    assert out["userErrors"] == [] and out["registration"] == {"state": "CONFIRMED", "pointsPaid": 25}
    assert out["member"]["points"]["available"] == 25
    assert codes(waiting.ok(ACCEPT, {"e": "fitting"})["eventOfferAccept"]) == ["ALREADY_REGISTERED"]


def test_a_visitor_without_a_token_sees_only_public_events_and_no_eligibility(shop):
    save(shop, "open-house", public=True)
    save(shop, "members-night")
    visitor = shop.anonymous.ok("{ vipEvents(first: 10) { nodes { eventId eligibility { eligible } myRegistration { state } } } }")
    assert visitor["vipEvents"]["nodes"] == [{"eventId": "open-house", "eligibility": None, "myRegistration": None}]
    member = shop.member().ok("{ vipEvents(first: 10) { nodes { eventId } } }")["vipEvents"]["nodes"]
    assert [n["eventId"] for n in member] == ["members-night", "open-house"]  # same start: by id
    assert shop.anonymous(REGISTER, {"e": "open-house"}).error_codes() == ["UNAUTHENTICATED"]


def test_a_page_of_events_for_a_member_costs_one_dynamodb_call(shop):
    with_tiers(shop)
    for i in range(5):
        save(shop, f"e{i}", invitedOnly=i % 2 == 0, minTierRank=1,
             startsAt=(shop.now + timedelta(days=10 + i)).isoformat(),
             endsAt=(shop.now + timedelta(days=10 + i, hours=2)).isoformat())
    member = tiered(shop, "gold")
    register(member, "e1")
    shop.member().ok(LIST, {"f": 5})  # the container's event list is cached now (the program too)
    with dynamodb_calls() as calls:
        page = member.ok(LIST, {"f": 5})["vipEvents"]
    assert calls == ["BatchGetItem"]
    assert [e["node"]["eligibility"]["reason"] for e in page["edges"]] == [
        "NOT_INVITED", "ALREADY_REGISTERED", "NOT_INVITED", None, "NOT_INVITED"]
    with dynamodb_calls() as calls:
        shop.anonymous.ok("{ vipEvents(first: 5) { nodes { eventId seatsLeft } } }")
    assert calls == []  # nothing public: nothing to read


def test_a_page_that_ends_exactly_at_the_end_says_there_is_no_next_page(shop):
    for i in range(3):
        save(shop, f"p{i}", startsAt=(shop.now + timedelta(days=10 + i)).isoformat(),
             endsAt=(shop.now + timedelta(days=10 + i, hours=2)).isoformat())
    member = shop.member()
    query = "query($f: Int, $a: String) { vipEvents(first: $f, after: $a) { edges { cursor node { eventId } } pageInfo { hasNextPage endCursor } } }"
    whole = member.ok(query, {"f": 3})["vipEvents"]
    assert [e["node"]["eventId"] for e in whole["edges"]] == ["p0", "p1", "p2"] and whole["pageInfo"]["hasNextPage"] is False
    part = member.ok(query, {"f": 2})["vipEvents"]
    assert len(part["edges"]) == 2 and part["pageInfo"]["hasNextPage"] is True
    rest = member.ok(query, {"f": 2, "a": part["pageInfo"]["endCursor"]})["vipEvents"]
    assert [e["node"]["eventId"] for e in rest["edges"]] == ["p2"] and rest["pageInfo"]["hasNextPage"] is False


def test_a_registration_is_one_transaction_without_a_read_and_a_cancellation_reads_only_what_it_must(shop):
    save(shop, "counted", capacity=1, pointsCost=10)
    seated, waiting = shop.member(points=50), shop.member(points=50)
    shop.member().ok(LIST, {"f": 5})  # the container's event list is cached now
    bare = "mutation R($e: ID!) { eventRegister(eventId: $e) { state userErrors { code } } }"
    with dynamodb_calls() as calls:
        assert seated.ok(bare, {"e": "counted"})["eventRegister"] == {"state": "CONFIRMED", "userErrors": []}
    assert calls == ["TransactWriteItems"]
    with dynamodb_calls() as calls:
        assert waiting.ok(bare, {"e": "counted"})["eventRegister"]["state"] == "WAITLISTED"
    assert calls == ["TransactWriteItems", "TransactWriteItems"]  # the first try assumed a seat: the old image said full
    cancel = "mutation C($e: ID!) { eventCancelRegistration(eventId: $e) { refunded seatPassedOn userErrors { code } } }"
    with dynamodb_calls() as calls:
        out = seated.ok(cancel, {"e": "counted"})["eventCancelRegistration"]
    assert out == {"refunded": 10, "seatPassedOn": True, "userErrors": []}
    # The event and the registration, the waitlist's head, the head's registration and profile, one transaction.
    assert calls == ["BatchGetItem", "Query", "BatchGetItem", "TransactWriteItems"]


def test_once_the_event_has_started_a_member_can_no_longer_cancel_but_staff_can(shop):
    save(shop, "started")
    member = shop.member()
    register(member, "started")
    shop.now = shop.now + timedelta(days=10, minutes=5)
    assert codes(member.ok(CANCEL, {"e": "started"})["eventCancelRegistration"]) == ["REGISTRATION_CLOSED"]
    out = shop.staff.ok(CANCEL, {"e": "started", "m": member_id(member), "r": "left early"})["eventCancelRegistration"]
    assert out["userErrors"] == [] and out["registration"]["state"] == "CANCELLED" and out["seatPassedOn"] is False
