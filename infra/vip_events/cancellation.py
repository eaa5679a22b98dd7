"""Staff cancel an event (`vipEventCancel`): at once no more registrations, then every registration
ended, refunded and told, in bounded chunks.

1. ONE TransactWriteItems: the EVENT item's `status` becomes CANCELLED (conditioned on SCHEDULED: every
   registration, offer and check-in is conditioned on that status, so nothing new lands after it),
   with who, when and why, `refundsPending` true and the GSI2 mark `T#t#DUE#VIPCANCEL` /
   `<cancelledAt>#<event>` (replacing the no-show mark), and the audit entry.
2. Then the registrations, a chunk per invocation (the mutation does the first; the `vip-cancellations`
   job continues from its cursor): each CONFIRMED, OFFERED or WAITLISTED registration becomes CANCELLED
   (reason EVENT_CANCELLED) in its own transaction, conditioned on the state and version read, with its
   `pointsPaid` refunded in full (one ledger credit, REDEMPTION_CANCELLED), its waitlist entry deleted,
   the event's counters moved, and a `vip_event.cancelled` outbox event for the member. A rerun finds
   the registration CANCELLED and passes over it: never a second refund. Attended registrations keep
   what they paid (no refund after check-in).
3. When a walk reaches the last registration with none failed, `refundsPending` becomes false and the
   mark goes; until then the event says so (`refundsPending`, `registrationsEnded`, `pointsRefunded`),
   and the job finds it again: never half-done silently.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from domain.errors import ErrorCode, UserError
from domain.points.balance import Balance, EntryType, credit
from domain.vip_events import policy
from domain.vip_events.checkin import code_hash
from domain.vip_events.model import EventStatus, RegistrationState
from infra import keys
from infra.audit import audit_entry
from infra.dynamo_errors import Kind, call, classify
from infra.members import outbox_event
from infra.points.ledger import Change, MemberLedger, post
from infra.points.program_store import ProgramStore
from infra.transaction import Transaction, TransactionCancelled
from infra.vip_events import catalog
from infra.vip_events.catalog import event_from_raw, event_of
from infra.vip_events.items import RegistrationItem, TicketLookup, VipEventItem, WaitlistEntry

REASON = "EVENT_CANCELLED"


def cancelled_mark(tenant: str, event_id: str, at: datetime) -> tuple[str, str]:
    return keys.due_pk(tenant, keys.VIP_CANCEL_DUE), f"{at.isoformat()}#{event_id}"


@dataclass(frozen=True)
class Ended:
    points: int  # refunded


class EventCancellation:
    def __init__(self, tenant: str, programs: ProgramStore):
        self.tenant = tenant
        self.programs = programs

    def cancel(self, event_id: str, reason: str, actor: str, now: datetime) -> None:
        """Step 1: the event is CANCELLED (audited). ALREADY_CANCELLED when it was; NOT_FOUND when none."""
        reason = reason.strip()
        if not reason:
            raise UserError(ErrorCode.REQUIRED, "Say why the event is cancelled: members are told.", "reason")
        E = VipEventItem
        pk = keys.vip_event_pk(self.tenant, event_id)
        due_pk, due_sk = cancelled_mark(self.tenant, event_id, now)
        tx = Transaction()
        tx.update("event", E(pk, keys.VIP_EVENT_SK), [
            E.status.set(EventStatus.CANCELLED.value), E.cancelled_at.set(now.isoformat()), E.cancelled_by.set(actor),
            E.cancel_reason.set(reason), E.refunds_pending.set(True), E.registrations_ended.set(0),
            E.points_refunded.set(0), E.version.add(1), E.updated_at.set(now.isoformat()),
            E.GSI2PK.set(due_pk), E.GSI2SK.set(due_sk)],
            E.PK.exists() & (E.status == EventStatus.SCHEDULED.value))
        tx.put("audit", audit_entry(self.tenant, actor, "vip_event.cancel", now, detail={"eventId": event_id},
                                    reason=reason))
        try:
            tx.commit()
        except TransactionCancelled as c:
            old = event_from_raw(c.old("event"))
            if old is None:
                raise UserError(ErrorCode.NOT_FOUND, "No event has this id.", "eventId") from None
            raise UserError(ErrorCode.ALREADY_CANCELLED, "This event was cancelled already.", "eventId") from None
        finally:
            catalog.invalidate(self.programs)

    def end(self, event: VipEventItem, reg: RegistrationItem, now: datetime) -> Ended | None:
        """Step 2 for one registration: None when there is nothing to end (cancelled already, attended,
        a no-show). Raises TransactionCancelled when the registration moved since it was read."""
        state = RegistrationState(reg.state)
        if state not in policy.ENDED_BY_EVENT_CANCELLATION:
            return None
        definition = event_of(event)
        refund = policy.event_cancellation_refund(int(reg.points_paid or 0), state)
        program = self.programs.program()
        ledger = MemberLedger(self.tenant, reg.member_id, now, program)
        now_iso, epoch = now.isoformat(), int(now.timestamp())
        R, E = RegistrationItem, VipEventItem
        counters = {RegistrationState.CONFIRMED: [E.confirmed.add(-1), E.taken.add(-1)],
                    RegistrationState.OFFERED: [E.offered.add(-1), E.taken.add(-1)],
                    RegistrationState.WAITLISTED: [E.waitlisted.add(-1)]}[state]

        def build(known: Balance) -> Transaction:
            tx = Transaction()
            tx.update("registration", reg, [
                R.state.set(RegistrationState.CANCELLED.value), R.reason.set(REASON), R.points_refunded.set(refund),
                R.updated_at.set(now_iso), R.version.add(1), R.offer_expires_at.remove(), R.GSI2PK.remove(),
                R.GSI2SK.remove(), R.seq.remove()], (R.state == state.value) & (R.version == int(reg.version)))
            if state is RegistrationState.WAITLISTED and reg.seq is not None:
                tx.delete("waitlist", WaitlistEntry(reg.PK, keys.waitlist_sk(int(reg.seq))))
            if reg.code:
                tx.delete("ticket", TicketLookup(keys.ticket_pk(self.tenant, code_hash(reg.code)), keys.TICKET_SK))
            tx.update("vip-event", E(reg.PK, keys.VIP_EVENT_SK), [
                *counters, E.registrations_ended.add(1), E.points_refunded.add(refund)])
            if refund:
                ledger.add(tx, Change(credit(known, refund, counts_toward_lifetime=False), EntryType.REDEMPTION_CANCELLED,
                                      reason=f"{definition.title} cancelled"[:200],
                                      source=f"vip:{definition.event_id}", activity=False), known)
            tx.put("notice", outbox_event(self.tenant, ledger.pk, "vip_event.cancelled", {
                "memberId": reg.member_id, "eventId": definition.event_id, "title": definition.title,
                "startsAt": definition.starts_at.isoformat(), "was": state.value, "pointsRefunded": refund,
                "reason": event.cancel_reason}, now_iso, epoch))
            return tx

        post(build)
        return Ended(refund)

    def done(self, event: VipEventItem) -> bool:
        """Step 3: no registration is left to end; the event says so. False when it was done already."""
        E = VipEventItem
        try:
            call(lambda: E(event.PK, event.SK).update(
                [E.refunds_pending.set(False), E.GSI2PK.remove(), E.GSI2SK.remove()],
                condition=E.refunds_pending == True, add_version_condition=False),  # noqa: E712
                what="VIP event cancellation done")
        except Exception as e:
            if classify(e) is Kind.CONDITIONAL:
                return False
            raise
        return True


def registration_moved(c: TransactionCancelled) -> bool:
    """Whether a cancellation is the registration's own condition (read again and retry)."""
    return c.failed_on("registration")
