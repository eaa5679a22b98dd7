"""Check-in at the door (`eventCheckIn`): a scan of a ticket's code by event staff.

Reads: the ticket lookup (GetItem of `T#t#TICKET#<sha256(code)>`: the key never carries the code), then
one BatchGetItem of the event, the registration and this scan's `SCAN#<scanId>`. Writes: ONE
TransactWriteItems:

- the registration CONFIRMED -> ATTENDED (`checkedInAt`, `checkedInBy`), conditioned on CONFIRMED: two
  scans of one ticket at the same moment check it in once, the other is answered ALREADY_CHECKED_IN;
- the scan's answer (`SCAN#<scanId>`, attribute_not_exists, TTL): the same scan retried replays it;
- a ConditionCheck that the event is still SCHEDULED (a cancelled event takes no check-ins);
- the attendance points (and the event badge's bonus) as one ledger credit (`MemberLedger`, BONUS);
- the `vip_event.attended` outbox event (detail memberId, eventId): the progress listener counts it
  for VIP_EVENTS_ATTENDED badges and challenges;
- the event's own badge, when it has one the member does not hold yet: `BADGE#<id>` attribute_not_exists,
  its `SRC#badge:<id>` mark and a `badge.awarded` event, as the progress listener writes an award
  (infra/progress/rewards.py). Awarded here rather than by the listener because it belongs to this one
  event, not to a count; a member who holds it already gets the check-in without it (the transaction is
  rebuilt once without the badge when its condition fails).

A code that leads nowhere (garbage, another tenant's ticket: the key carries the tenant) is NOT_FOUND
and nothing is written.
"""
from __future__ import annotations

import hmac
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from domain.errors import ErrorCode, UserError
from domain.points.balance import Balance, EntryType, credit
from domain.vip_events import checkin as rules
from domain.vip_events.checkin import CheckInAnswer, Outcome
from domain.vip_events.model import EventStatus, RegistrationState, VipEvent
from infra import keys
from infra.badges.items import BADGE_PREFIX, BadgeAward
from infra.dynamo_errors import Kind, call, classify
from infra.members import outbox_event
from infra.points.items import SourceMark
from infra.points.ledger import Change, MemberLedger, post
from infra.points.program_store import ProgramStore
from infra.progress.catalog import catalog
from infra.progress.rewards import badge_source
from infra.transaction import Transaction, TransactionCancelled
from infra.items.batch import batch_get
from infra.vip_events.catalog import event_of
from infra.vip_events.items import CheckInScan, RegistrationItem, TicketLookup, VipEventItem

SCAN_TTL_SECONDS = 7 * 24 * 3600
ATTEMPTS = 4


@dataclass(frozen=True)
class CheckInResult:
    answer: CheckInAnswer
    replayed: bool  # this scan id was answered before: the stored answer, nothing written now


class CheckIns:
    def __init__(self, tenant: str, programs: ProgramStore):
        self.tenant = tenant
        self.programs = programs

    def lookup(self, code: str) -> TicketLookup | None:
        try:
            return call(lambda: TicketLookup.get(keys.ticket_pk(self.tenant, rules.code_hash(code)), keys.TICKET_SK,
                                                 consistent_read=True), what="ticket lookup")
        except TicketLookup.DoesNotExist:
            return None

    def check_in(self, code: str, scan_id: str, scanner: str | None, actor: str, now: datetime) -> CheckInResult:
        """`scanner`: the staff member's own subject (refused on their own ticket); `actor`: who is recorded."""
        found = self.lookup(code)
        if found is None:
            raise UserError(ErrorCode.NOT_FOUND, "No ticket has this code.", "code")
        rules.check_scanner(scanner, found.member_id)
        event_pk = keys.vip_event_pk(self.tenant, found.event_id)
        badge_ok = True
        for _ in range(ATTEMPTS):
            items, _calls = batch_get([(event_pk, keys.VIP_EVENT_SK), (event_pk, keys.registration_sk(found.member_id)),
                                       (event_pk, keys.scan_sk(scan_id))])
            scan = next((i for i in items if isinstance(i, CheckInScan)), None)
            if scan is not None:
                return self._replay(scan, found)
            item = next((i for i in items if isinstance(i, VipEventItem)), None)
            reg = next((i for i in items if isinstance(i, RegistrationItem)), None)
            if item is None or reg is None or (reg.code is not None and not hmac.compare_digest(reg.code, code)):
                # no such registration now, or a newer registration with a new code: an old ticket opens nothing
                raise UserError(ErrorCode.NOT_FOUND, "No ticket has this code.", "code")
            event = event_of(item)
            state = RegistrationState(reg.state)
            if state is RegistrationState.ATTENDED:
                return self._already(reg, found, scan_id, now)
            rules.check_door(EventStatus(item.status), event.starts_at, event.ends_at, now)
            rules.check_ticket(state)
            badge = self._badge(event, now) if badge_ok else None
            answer = CheckInAnswer(Outcome.CHECKED_IN, found.event_id, found.member_id, now, actor,
                                   event.attendance_points + (badge.bonus_points if badge else 0),
                                   badge.id if badge else None)
            try:
                self._commit(event, reg, answer, scan_id, badge, now)
                return CheckInResult(answer, replayed=False)
            except TransactionCancelled as c:
                if c.failed_on("badge"):
                    badge_ok = False  # held already: checked in without it
                    continue
                if c.failed_on("event"):
                    raise UserError(ErrorCode.EVENT_CANCELLED, "This event was cancelled.", "code") from None
                # The registration moved (another scan checked it in) or this scan id was answered
                # meanwhile: read again, and answer what is there now.
                continue
        raise UserError(ErrorCode.CONFLICT, "The ticket kept changing; scan again.", "code")

    def _badge(self, event: VipEvent, now: datetime) -> Any:
        """The event's badge, when it names one that can be earned now (its window)."""
        if not event.badge_id:
            return None
        badge = catalog(self.programs).badge(event.badge_id)
        return badge if badge is not None and badge.available_at(now) else None

    def _commit(self, event: VipEvent, reg: RegistrationItem, answer: CheckInAnswer, scan_id: str, badge: Any,
                now: datetime) -> None:
        program = self.programs.program()
        ledger = MemberLedger(self.tenant, answer.member_id, now, program)
        event_pk = reg.PK
        now_iso, epoch = now.isoformat(), int(now.timestamp())

        def build(known: Balance) -> Transaction:
            tx = Transaction()
            R = RegistrationItem
            tx.update("registration", reg, [R.state.set(RegistrationState.ATTENDED.value), R.checked_in_at.set(now_iso),
                                            R.checked_in_by.set(answer.checked_in_by), R.updated_at.set(now_iso),
                                            R.version.add(1)],
                      R.state == RegistrationState.CONFIRMED.value)
            tx.put("scan", CheckInScan(event_pk, keys.scan_sk(scan_id), answer=answer.to_dict(), created_at=now_iso,
                                       expires_at=epoch + SCAN_TTL_SECONDS), CheckInScan.PK.does_not_exist())
            tx.check("event", VipEventItem, event_pk, keys.VIP_EVENT_SK,
                     VipEventItem.status == EventStatus.SCHEDULED.value)
            tx.put("attended", outbox_event(self.tenant, ledger.pk, "vip_event.attended", {
                "memberId": answer.member_id, "eventId": answer.event_id, "checkedInAt": now_iso,
                "points": answer.points, **({"badgeId": badge.id} if badge else {})}, now_iso, epoch))
            sources = [f"vip:{answer.event_id}"]
            if badge is not None:
                tx.put("badge", BadgeAward(ledger.pk, f"{BADGE_PREFIX}{badge.id}", badge_id=badge.id, earned_at=now_iso,
                                           cause=f"vip_event:{answer.event_id}"), BadgeAward.PK.does_not_exist())
                tx.put("event:badge", outbox_event(self.tenant, ledger.pk, "badge.awarded", {
                    "memberId": answer.member_id, "badgeId": badge.id, "earnedAt": now_iso,
                    "cause": f"vip_event:{answer.event_id}", "bonusPoints": badge.bonus_points}, now_iso, epoch))
                if badge.bonus_points:
                    source = badge_source(badge.id)
                    sources.append(source)
                    tx.put("src:badge", SourceMark(ledger.pk, f"{keys.SOURCE_PREFIX}{source}", cause=source,
                                                   created_at=now_iso), SourceMark.PK.does_not_exist())
            if answer.points:
                ledger.add(tx, Change(credit(known, answer.points), EntryType.BONUS,
                                      reason=f"Attended {event.title}"[:200], source=" ".join(sources)[:900],
                                      event="points.earned", event_detail={"eventId": answer.event_id,
                                                                           "qualifying": 0}), known)
            return tx

        post(build)

    def _replay(self, scan: CheckInScan, found: TicketLookup) -> CheckInResult:
        answer = CheckInAnswer.from_dict(scan.answer)
        if (answer.event_id, answer.member_id) != (found.event_id, found.member_id):
            raise UserError(ErrorCode.INVALID, "This scan id was used for another ticket; scan again.", "scanId")
        return CheckInResult(answer, replayed=True)

    def _already(self, reg: RegistrationItem, found: TicketLookup, scan_id: str, now: datetime) -> CheckInResult:
        """A used ticket scanned again: when and by whom it was checked in, kept as this scan's answer."""
        answer = CheckInAnswer(Outcome.ALREADY_CHECKED_IN, found.event_id, found.member_id,
                               datetime.fromisoformat(reg.checked_in_at or now.isoformat()), reg.checked_in_by or "")
        try:
            call(lambda: CheckInScan(reg.PK, keys.scan_sk(scan_id), answer=answer.to_dict(), created_at=now.isoformat(),
                                     expires_at=int(now.timestamp()) + SCAN_TTL_SECONDS)
                 .save(condition=CheckInScan.PK.does_not_exist(), add_version_condition=False), what="check-in scan")
        except Exception as e:
            if classify(e) is not Kind.CONDITIONAL:
                raise
            stored = call(lambda: CheckInScan.get(reg.PK, keys.scan_sk(scan_id), consistent_read=True),
                          what="check-in scan")
            return self._replay(stored, found)
        return CheckInResult(answer, replayed=False)

