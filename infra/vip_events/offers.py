"""Offers: a seat held for the head of the waitlist (OfferMode.HOLD) until `offerExpiresAt`.

The member accepts within the hold (`eventOfferAccept`): OFFERED -> CONFIRMED, conditioned on the state and
on the hold not having passed, the points cost charged in the same transaction. The `vip-offers` job walks
the offers past their hold (GSI2 `T#t#DUE#VIPOFFER`, `<expires>#<event>#<member>`, the points jobs' walk:
pages, budget, cursor, lease) and passes each seat to the next eligible member exactly once: the expiry is the
cancellation path (infra/vip_events/registrations.py) conditioned on the registration still OFFERED at the
version read, so a rerun, or an accept at the same moment, leaves one outcome."""
from __future__ import annotations

from datetime import datetime

from domain.errors import ErrorCode, UserError
from domain.points.balance import Balance, EntryType, spend
from domain.vip_events.model import EventStatus, RegistrationState
from infra import keys
from infra.members import outbox_event
from infra.points.jobs import JobReport, PointsJobs
from infra.points.ledger import Change, MemberLedger, balance_of
from infra.transaction import Transaction, TransactionCancelled
from infra.vip_events.catalog import event_of
from infra.vip_events.items import RegistrationItem, VipEventItem
from infra.vip_events.registrations import ATTEMPTS, Registered, Registrations, scheduled_event_and_registration

JOB = "vip-offers"


def accept(registrations: Registrations, member_id: str, event_id: str, now: datetime) -> Registered:
    tenant = registrations.tenant
    program = registrations.programs.program()
    epk = keys.vip_event_pk(tenant, event_id)
    known: Balance | None = None
    for _ in range(ATTEMPTS):
        item, reg = scheduled_event_and_registration(tenant, event_id, member_id)
        if reg is None or reg.state != RegistrationState.OFFERED.value:
            if reg is not None and reg.state == RegistrationState.CONFIRMED.value:
                raise UserError(ErrorCode.ALREADY_REGISTERED, "Your seat is confirmed already.", "eventId")
            raise UserError(ErrorCode.NOT_REGISTERED, "No seat is offered to you for this event.", "eventId")
        if reg.offer_expires_at is None or reg.offer_expires_at <= now.isoformat():
            raise UserError(ErrorCode.OFFER_EXPIRED, "The offer has expired.", "eventId")
        event = event_of(item)
        cost = event.points_cost
        if known is None:
            known = Balance(available=cost)
        R, E = RegistrationItem, VipEventItem
        tx = Transaction()
        tx.update("registration", R(epk, reg.SK), [
            R.state.set(RegistrationState.CONFIRMED.value), R.points_paid.set(cost), R.updated_at.set(now.isoformat()),
            R.version.add(1), R.GSI2PK.remove(), R.GSI2SK.remove()],
            (R.state == RegistrationState.OFFERED.value) & (R.version == int(reg.version))
            & (R.offer_expires_at > now.isoformat()))
        tx.update("event", E(epk, keys.VIP_EVENT_SK), [E.offered.add(-1), E.confirmed.add(1)],
                  (E.version == int(item.version)) & (E.status == EventStatus.SCHEDULED.value) & (E.offered >= 1))
        mpk = keys.member_pk(tenant, member_id)
        if cost:
            MemberLedger(tenant, member_id, now, program).add(
                tx, Change(spend(known, cost), EntryType.REDEEM, reason=f"VIP event: {event.title}",
                           source=f"vip:{event_id}"), known)
        tx.put("outbox", outbox_event(tenant, mpk, "vip_event.registered", {
            "memberId": member_id, "eventId": event_id, "state": RegistrationState.CONFIRMED.value,
            "pointsPaid": cost, "offerAccepted": True}, now.isoformat(), int(now.timestamp())))
        try:
            tx.commit()
        except TransactionCancelled as c:
            if c.failed_on("profile"):
                raw = c.old("profile")
                if raw is None:
                    raise UserError(ErrorCode.NOT_ENROLLED, "Enroll first.", "eventId") from None
                known = balance_of(raw)  # not enough points: spend() says so on the next build
            continue
        return Registered(event_id, member_id, RegistrationState.CONFIRMED, points_paid=cost)
    raise UserError(ErrorCode.CONFLICT, "The event kept changing; try again.", "eventId")


def pass_expired_offers(jobs: PointsJobs, now: datetime) -> JobReport:
    """The `vip-offers` job: every offer past its hold, to the next eligible member, once."""
    report = JobReport(JOB, jobs.tenant)
    registrations = Registrations(jobs.tenant, jobs.programs)

    def settle(item: RegistrationItem) -> None:
        done = registrations.expire_offer(item.member_id, item.event_id, now)
        if done is None:
            report.skipped += 1
            return
        report.processed += 1

    return jobs._walk(report, "VIPOFFER", now, settle, kind=RegistrationItem)
