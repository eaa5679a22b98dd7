"""Check-in at the door on DynamoDB Local: one scan checks a ticket in once, credits attendance once and
feeds badges once, however many scans race; the same scan retried replays its first answer."""
from __future__ import annotations

import secrets
import uuid
from dataclasses import replace
from datetime import datetime, timedelta, timezone

import pytest

from domain.badges.definitions import Badge
from domain.errors import ErrorCode, UserError
from domain.members import Enrollment
from domain.points.balance import Balance, EntryType, credit
from domain.points.program import Program
from domain.vip_events import definition
from domain.vip_events.checkin import Outcome, code_hash
from domain.vip_events.model import CancellationPolicy, RegistrationState, VipEvent
from infra import keys
from infra.badges.items import BadgeAward
from infra.badges.store import BadgeStore
from infra.items import MemberProfile, OutboxEvent, TableItem, read_partition
from infra.members import Members
from infra.points.items import LedgerEntry
from infra.points.ledger import Change, MemberLedger, post
from infra.points.program_store import ProgramStore
from infra.transaction import Transaction
from infra.vip_events.catalog import list_sk
from infra.vip_events.checkin import CheckIns
from infra.vip_events.items import CheckInScan, RegistrationItem, TicketLookup, VipEventItem, WaitlistEntry
from tests.support import all_at_once, new_tenant

NOW = datetime(2027, 3, 10, 18, 0, tzinfo=timezone.utc)


class VipShop:
    """A tenant of its own with events and registrations put as the registration code writes them."""

    def __init__(self, services, program: Program = Program()):
        self.tenant = new_tenant()
        self.programs = ProgramStore(self.tenant, services.programs)
        self.programs.save_program(program, "test", NOW - timedelta(days=30))
        self.codes: dict[tuple[str, str], str] = {}

    def member(self, points: int = 0, member_id: str | None = None) -> str:
        member_id = member_id or f"m-{uuid.uuid4().hex[:10]}"
        at = NOW - timedelta(days=20)
        Members(self.tenant).enroll(member_id, Enrollment("M", f"{member_id}@example.com", None, False),
                                    at.isoformat(), int(at.timestamp()))
        if points:
            ledger = MemberLedger(self.tenant, member_id, at, self.programs.program())
            post(lambda known: self._tx(ledger, known, points))
        return member_id

    @staticmethod
    def _tx(ledger: MemberLedger, known: Balance, points: int) -> Transaction:
        tx = Transaction()
        ledger.add(tx, Change(credit(known, points), EntryType.ADJUSTMENT, reason="test", activity=False), known)
        return tx

    def event(self, *, starts: datetime = NOW, hours: int = 3, capacity: int = 500, **kw) -> VipEvent:
        event = VipEvent(event_id=f"ev-{uuid.uuid4().hex[:8]}", title="Spring tasting", starts_at=starts,
                         ends_at=starts + timedelta(hours=hours), capacity=capacity, venue="Omotesando", **kw)
        item = VipEventItem(keys.vip_event_pk(self.tenant, event.event_id), keys.VIP_EVENT_SK,
                            definition=definition.to_dict(event), status="SCHEDULED", capacity=capacity,
                            created_at=(NOW - timedelta(days=10)).isoformat(),
                            GSI1PK=keys.vip_events_list_pk(self.tenant), GSI1SK=list_sk(event),
                            GSI2PK=keys.due_pk(self.tenant, keys.VIP_NO_SHOW_DUE),
                            GSI2SK=list_sk(replace(event, starts_at=event.ends_at)))
        item.save()
        return event

    def register(self, event: VipEvent, member_id: str, state: RegistrationState = RegistrationState.CONFIRMED,
                 paid: int = 0, seq: int | None = None) -> str | None:
        """A registration as eventRegister leaves it (the points it paid taken from the member)."""
        pk = keys.vip_event_pk(self.tenant, event.event_id)
        code = secrets.token_urlsafe(18) if state is RegistrationState.CONFIRMED else None
        RegistrationItem(pk, keys.registration_sk(member_id), event_id=event.event_id, member_id=member_id,
                         state=state.value, seq=seq, points_paid=paid, policy=event.cancellation.to_dict(),
                         code=code, registered_at=(NOW - timedelta(days=5)).isoformat(),
                         GSI1PK=keys.member_tickets_pk(self.tenant, member_id), GSI1SK=list_sk(event)).save()
        if code:
            TicketLookup(keys.ticket_pk(self.tenant, code_hash(code)), keys.TICKET_SK, event_id=event.event_id,
                         member_id=member_id).save()
            self.codes[(event.event_id, member_id)] = code
        if seq is not None:
            WaitlistEntry(pk, keys.waitlist_sk(seq), member_id=member_id, joined_at=NOW.isoformat()).save()
        counters = {RegistrationState.CONFIRMED: [VipEventItem.confirmed.add(1), VipEventItem.taken.add(1)],
                    RegistrationState.OFFERED: [VipEventItem.offered.add(1), VipEventItem.taken.add(1)],
                    RegistrationState.WAITLISTED: [VipEventItem.waitlisted.add(1)]}.get(state)
        if counters:
            VipEventItem(pk, keys.VIP_EVENT_SK).update(counters)
        if paid:
            ledger = MemberLedger(self.tenant, member_id, NOW - timedelta(days=5), self.programs.program())
            post(lambda known: self._spend(ledger, known, paid), assume=Balance(available=paid))
        return code

    @staticmethod
    def _spend(ledger: MemberLedger, known: Balance, points: int) -> Transaction:
        from domain.points.balance import spend
        tx = Transaction()
        ledger.add(tx, Change(spend(known, points), EntryType.REDEEM, reason="VIP event"), known)
        return tx

    def registration(self, event: VipEvent, member_id: str) -> RegistrationItem:
        return RegistrationItem.get(keys.vip_event_pk(self.tenant, event.event_id), keys.registration_sk(member_id),
                                    consistent_read=True)

    def event_item(self, event: VipEvent) -> VipEventItem:
        return VipEventItem.get(keys.vip_event_pk(self.tenant, event.event_id), keys.VIP_EVENT_SK, consistent_read=True)

    def member_items(self, member_id: str, kind: type) -> list:
        return [i for i in read_partition(keys.member_pk(self.tenant, member_id)) if isinstance(i, kind)]

    def outbox(self, member_id: str, event_type: str) -> list[OutboxEvent]:
        items = read_partition(keys.member_pk(self.tenant, member_id), TableItem.SK.startswith(keys.OUTBOX_PREFIX))
        return [i for i in items if isinstance(i, OutboxEvent) and i.event_type == event_type]

    def available(self, member_id: str) -> int:
        return int(MemberProfile.get(keys.member_pk(self.tenant, member_id), keys.PROFILE, consistent_read=True).available)

    def entries(self, member_id: str, entry_type: EntryType) -> list[LedgerEntry]:
        return [e for e in self.member_items(member_id, LedgerEntry) if e.entry_type == entry_type.value]


@pytest.fixture
def shop(services) -> VipShop:
    return VipShop(services)


def refused(call) -> UserError:
    with pytest.raises(UserError) as e:
        call()
    return e.value


def test_a_scan_checks_the_ticket_in_credits_attendance_and_the_same_scan_retried_replays_it(shop):
    event = shop.event(attendance_points=150)
    member = shop.member()
    code = shop.register(event, member)
    desk = CheckIns(shop.tenant, shop.programs)
    first = desk.check_in(code, "scan-1", "staff-door", "staff:staff-door", NOW)
    assert (first.answer.outcome, first.replayed, first.answer.points) == (Outcome.CHECKED_IN, False, 150)
    reg = shop.registration(event, member)
    assert (reg.state, reg.checked_in_at, reg.checked_in_by) == ("ATTENDED", NOW.isoformat(), "staff:staff-door")
    again = desk.check_in(code, "scan-1", "staff-door", "staff:staff-door", NOW + timedelta(minutes=1))
    assert again.replayed and again.answer == first.answer
    assert shop.available(member) == 150
    assert [e.points for e in shop.entries(member, EntryType.BONUS)] == [150]
    assert [o.detail for o in shop.outbox(member, "vip_event.attended")] == [
        {"memberId": member, "eventId": event.event_id, "checkedInAt": NOW.isoformat(), "points": 150}]


def test_a_different_scan_of_a_used_ticket_answers_already_checked_in_with_when_and_by_whom(shop):
    event = shop.event(attendance_points=10)
    member = shop.member()
    code = shop.register(event, member)
    desk = CheckIns(shop.tenant, shop.programs)
    desk.check_in(code, "scan-a", "staff-a", "staff:staff-a", NOW)
    later = desk.check_in(code, "scan-b", "staff-b", "staff:staff-b", NOW + timedelta(minutes=5))
    assert later.answer.outcome is Outcome.ALREADY_CHECKED_IN and not later.replayed
    assert (later.answer.checked_in_at, later.answer.checked_in_by, later.answer.points) == (NOW, "staff:staff-a", 0)
    # that scan retried keeps its own answer
    assert desk.check_in(code, "scan-b", "staff-b", "staff:staff-b", NOW + timedelta(minutes=6)).answer == later.answer
    assert shop.available(member) == 10


def test_twelve_concurrent_scans_of_one_ticket_check_it_in_once_and_credit_attendance_once(shop):
    event = shop.event(attendance_points=40)
    member = shop.member()
    code = shop.register(event, member)
    desk = CheckIns(shop.tenant, shop.programs)
    results = all_at_once([lambda i=i: desk.check_in(code, f"scan-{i}", f"staff-{i}", f"staff:staff-{i}", NOW)
                          for i in range(12)])
    assert not [r for r in results if isinstance(r, BaseException)], results
    outcomes = [r.answer.outcome for r in results]
    assert outcomes.count(Outcome.CHECKED_IN) == 1 and outcomes.count(Outcome.ALREADY_CHECKED_IN) == 11
    winner = next(r.answer for r in results if r.answer.outcome is Outcome.CHECKED_IN)
    assert {(r.answer.checked_in_by, r.answer.checked_in_at) for r in results} == {(winner.checked_in_by, NOW)}
    assert shop.available(member) == 40 and len(shop.entries(member, EntryType.BONUS)) == 1
    assert len(shop.outbox(member, "vip_event.attended")) == 1


def test_the_same_scan_sent_eight_times_at_once_gets_one_answer_and_one_credit(shop):
    event = shop.event(attendance_points=25)
    member = shop.member()
    code = shop.register(event, member)
    desk = CheckIns(shop.tenant, shop.programs)
    results = all_at_once([lambda: desk.check_in(code, "scan-same", "staff-x", "staff:staff-x", NOW)] * 8)
    assert not [r for r in results if isinstance(r, BaseException)], results
    assert {r.answer for r in results} == {results[0].answer} and results[0].answer.outcome is Outcome.CHECKED_IN
    assert sum(not r.replayed for r in results) == 1
    assert shop.available(member) == 25 and len(shop.outbox(member, "vip_event.attended")) == 1


def test_garbage_or_another_tenants_code_is_not_found_and_writes_nothing(services, shop):
    event = shop.event()
    member = shop.member()
    shop.register(event, member)
    elsewhere = VipShop(services)
    other_event, other_member = elsewhere.event(), elsewhere.member()
    other_code = elsewhere.register(other_event, other_member)
    old = secrets.token_urlsafe(18)  # a code the registration no longer carries (an earlier ticket)
    TicketLookup(keys.ticket_pk(shop.tenant, code_hash(old)), keys.TICKET_SK, event_id=event.event_id,
                 member_id=member).save()
    desk = CheckIns(shop.tenant, shop.programs)
    for code in (other_code, "not-a-code", secrets.token_urlsafe(18), old):
        assert refused(lambda: desk.check_in(code, "scan-x", "staff", "staff:staff", NOW)).code is ErrorCode.NOT_FOUND
    assert [i for i in read_partition(keys.vip_event_pk(shop.tenant, event.event_id)) if isinstance(i, CheckInScan)] == []
    assert elsewhere.registration(other_event, other_member).state == "CONFIRMED"


def test_staff_checking_in_their_own_ticket_is_refused_and_nothing_is_written(shop):
    event = shop.event(attendance_points=10)
    member = shop.member(member_id=f"staff-{uuid.uuid4().hex[:6]}")
    code = shop.register(event, member)
    desk = CheckIns(shop.tenant, shop.programs)
    assert refused(lambda: desk.check_in(code, "scan-self", member, f"staff:{member}", NOW)).code is ErrorCode.SELF_CHECK_IN
    assert shop.registration(event, member).state == "CONFIRMED" and shop.available(member) == 0


def test_check_in_opens_three_hours_before_the_start_and_closes_at_the_end_and_only_for_confirmed_seats(shop):
    event = shop.event()
    member, waiting = shop.member(), shop.member()
    code = shop.register(event, member)
    shop.register(event, waiting, RegistrationState.WAITLISTED, seq=1)
    desk = CheckIns(shop.tenant, shop.programs)
    early = refused(lambda: desk.check_in(code, "s1", "st", "staff:st", NOW - timedelta(hours=3, minutes=1)))
    late = refused(lambda: desk.check_in(code, "s2", "st", "staff:st", event.ends_at + timedelta(minutes=1)))
    assert (early.code, late.code) == (ErrorCode.NOT_AVAILABLE, ErrorCode.NOT_AVAILABLE)
    assert desk.check_in(code, "s3", "st", "staff:st", NOW - timedelta(hours=2)).answer.outcome is Outcome.CHECKED_IN
    # a waitlisted member has no code at all; a cancelled registration's lookup leads to INVALID_STATE
    other = shop.member()
    cancelled_code = shop.register(event, other)
    RegistrationItem(keys.vip_event_pk(shop.tenant, event.event_id), keys.registration_sk(other)).update(
        [RegistrationItem.state.set("CANCELLED")])
    assert refused(lambda: desk.check_in(cancelled_code, "s4", "st", "staff:st", NOW)).code is ErrorCode.INVALID_STATE


def test_the_events_badge_is_awarded_with_its_bonus_once_and_a_member_holding_it_still_checks_in(shop):
    BadgeStore(shop.tenant, shop.programs).save(Badge("vip-spring", "Spring guest", None, bonus_points=30), "test",
                                                NOW - timedelta(days=1), existing=None)
    first, second = shop.event(attendance_points=100, badge_id="vip-spring"), shop.event(
        starts=NOW + timedelta(days=1), badge_id="vip-spring", attendance_points=5)
    member = shop.member()
    desk = CheckIns(shop.tenant, shop.programs)
    one = desk.check_in(shop.register(first, member), "b1", "st", "staff:st", NOW)
    assert (one.answer.points, one.answer.badge_id) == (130, "vip-spring")
    two = desk.check_in(shop.register(second, member), "b2", "st", "staff:st", NOW + timedelta(days=1))
    assert (two.answer.outcome, two.answer.points, two.answer.badge_id) == (Outcome.CHECKED_IN, 5, None)
    assert [b.badge_id for b in shop.member_items(member, BadgeAward)] == ["vip-spring"]
    assert shop.available(member) == 135 and len(shop.outbox(member, "badge.awarded")) == 1


def test_a_cancelled_events_ticket_does_not_check_in(shop):
    event = shop.event(attendance_points=10, cancellation=CancellationPolicy())
    member = shop.member()
    code = shop.register(event, member)
    VipEventItem(keys.vip_event_pk(shop.tenant, event.event_id), keys.VIP_EVENT_SK).update(
        [VipEventItem.status.set("CANCELLED")])
    assert refused(lambda: CheckIns(shop.tenant, shop.programs).check_in(code, "c1", "st", "staff:st", NOW)).code \
        is ErrorCode.EVENT_CANCELLED
    assert shop.available(member) == 0


def dynamodb_calls(run) -> list[str]:
    """The DynamoDB operations `run()` sends through the models' shared client."""
    client = TableItem._get_connection().connection.client
    sent: list[str] = []

    def hook(event_name: str, **_kw) -> None:
        sent.append(event_name.rsplit(".", 1)[1])

    client.meta.events.register("before-call.dynamodb", hook, unique_id="vip-calls")
    try:
        run()
    finally:
        client.meta.events.unregister("before-call.dynamodb", unique_id="vip-calls")
    return sent


def test_a_check_in_costs_three_calls_and_a_replayed_scan_two(shop):
    event = shop.event(attendance_points=10)
    member = shop.member()
    code = shop.register(event, member)
    desk = CheckIns(shop.tenant, shop.programs)
    shop.programs.program()  # the program is cached per container
    assert dynamodb_calls(lambda: desk.check_in(code, "n-1", "st", "staff:st", NOW)) == [
        "GetItem", "BatchGetItem", "TransactWriteItems"]
    assert dynamodb_calls(lambda: desk.check_in(code, "n-1", "st", "staff:st", NOW)) == ["GetItem", "BatchGetItem"]
    assert dynamodb_calls(lambda: desk.check_in(code, "n-2", "st", "staff:st", NOW)) == [
        "GetItem", "BatchGetItem", "PutItem"]  # ALREADY_CHECKED_IN, kept as that scan's answer
