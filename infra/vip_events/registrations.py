"""Registering for a VIP event, cancelling a registration, and moving the waitlist into freed seats.

**Register: one TransactWriteItems, no read first.** From the definition this container holds (its version
a condition), the transaction puts `REG#<member>` (absent, or replacing a CANCELLED one: never two), takes a
seat on the EVENT item (`taken < capacity`, no one waiting, status SCHEDULED, version) and charges the points
cost through the member's ledger (assuming enough points: the profile's condition says otherwise), or, when
the event is full, joins the waitlist: `waitSeq` moves by one conditioned on the value assumed, and
`WAIT#<seq>` is put, so positions follow the order DynamoDB accepted the registrations, without gaps. The
tier gate and early access are a condition on the profile's announced tier (domain/vip_events/eligibility.py),
an invitation a ConditionCheck on `INVITE#<member>`, a no-show block a ConditionCheck on `VIPSTATS`. The
check-in code (144 random bits) is kept on the registration and its SHA-256 is put as a TicketLookup, so a
scan finds the ticket in one GetItem and no key carries the code. When a condition fails, the cancellation's
old images (ALL_OLD) say why; the counters, the sequence, the definition or the balance are taken from them
and the transaction is built again.

**Cancel: the seat goes to the waitlist in the same transaction.** The registration leaves its state
(conditioned on it), the refund follows the policy copied onto it (domain/vip_events/policy.py), and the freed
seat goes to the head of the waitlist (infra/vip_events/waitlist.py): confirmed and charged, or offered for a
hold; ineligible heads are skipped with their reason, in the same transaction, until the seat is filled or
the list is empty. Whatever fails a condition (another cancellation took the head, the profile moved) is
read again and rebuilt."""
from __future__ import annotations

import secrets
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any

from domain.errors import ErrorCode, UserError
from domain.points.balance import Balance, EntryType, credit, spend
from domain.points.program import Program
from domain.vip_events import eligibility as gate
from domain.vip_events import policy
from domain.vip_events import waitlist as wait_rules
from domain.vip_events.checkin import code_hash
from domain.vip_events.definition import closes_at
from domain.vip_events.model import EventStatus, RegistrationState, VipEvent
from infra import keys
from infra.audit import audit_entry
from infra.dynamo_errors import call
from infra.items import MemberProfile
from infra.members import outbox_event
from infra.points.ledger import Change, MemberLedger, balance_of
from infra.points.program_store import ProgramStore
from infra.transaction import Transaction, TransactionCancelled
from infra.items.batch import batch_get
from infra.vip_events.catalog import EventCatalog, Listed, event_from_raw, event_of
from infra.vip_events.items import (Invitation, MemberVipStats, RegistrationItem, TicketLookup, VipEventItem,
                                    WaitlistEntry)
from infra.vip_events.waitlist import Deltas, heads, move_head, ticket_key

ATTEMPTS = 100  # one event item takes every registration: under a rush each attempt may lose to another
CODE_BYTES = 18  # secrets.token_urlsafe(18): 144 random bits, 24 characters
RELEASABLE = frozenset({RegistrationState.WAITLISTED, RegistrationState.OFFERED, RegistrationState.CONFIRMED})


@dataclass(frozen=True)
class Registered:
    event_id: str
    member_id: str
    state: RegistrationState
    seq: int | None = None
    points_paid: int = 0


@dataclass(frozen=True)
class Released:
    """What a cancellation (or an expired offer) did."""

    event_id: str
    member_id: str
    before: RegistrationState
    refunded: int = 0
    promoted: list[str] = field(default_factory=list)  # members moved into the seat (at most one)
    skipped: list[str] = field(default_factory=list)  # heads cancelled as no longer eligible


def scheduled_event_and_registration(tenant: str, event_id: str, member_id: str, *,
                                     cancelled: str = "This event was cancelled.") -> tuple[VipEventItem, RegistrationItem | None]:
    """The event and the member's registration as stored now (one consistent BatchGetItem); a missing
    event is NOT_FOUND and a cancelled one EVENT_CANCELLED, with the message `cancelled`."""
    epk = keys.vip_event_pk(tenant, event_id)
    found, _ = batch_get([(epk, keys.VIP_EVENT_SK), (epk, keys.registration_sk(member_id))])
    item = next((i for i in found if isinstance(i, VipEventItem)), None)
    reg = next((i for i in found if isinstance(i, RegistrationItem)), None)
    if item is None:
        raise UserError(ErrorCode.NOT_FOUND, "No such event.", "eventId")
    if item.status != EventStatus.SCHEDULED.value:
        raise UserError(ErrorCode.EVENT_CANCELLED, cancelled, "eventId")
    return item, reg


def new_code() -> str:
    return secrets.token_urlsafe(CODE_BYTES)


def tickets_sk(e: VipEvent) -> str:
    return f"{e.starts_at.isoformat()}#{e.event_id}"


def _s(raw: dict[str, Any] | None, name: str) -> str | None:
    v = (raw or {}).get(name)
    return v.get("S") if v else None


class Registrations:
    def __init__(self, tenant: str, programs: ProgramStore):
        self.tenant = tenant
        self.programs = programs
        self.catalog = EventCatalog(tenant, programs)

    def _event(self, event_id: str, now: datetime) -> Listed:
        found = self.catalog.known(event_id, now)
        if found is None:
            raise UserError(ErrorCode.NOT_FOUND, "No such event.", "eventId")
        return found

    def registration(self, event_id: str, member_id: str) -> RegistrationItem | None:
        def get() -> RegistrationItem | None:
            try:
                return RegistrationItem.get(keys.vip_event_pk(self.tenant, event_id), keys.registration_sk(member_id),
                                            consistent_read=True)
            except RegistrationItem.DoesNotExist:
                return None
        return call(get, what="registration")

    def _profile(self, member_id: str) -> MemberProfile | None:
        def get() -> MemberProfile | None:
            try:
                return MemberProfile.get(keys.member_pk(self.tenant, member_id), keys.PROFILE, consistent_read=True)
            except MemberProfile.DoesNotExist:
                return None
        return call(get, what="member")

    # -- registering -------------------------------------------------------------------------------
    def register(self, member_id: str, event_id: str, now: datetime) -> Registered:
        listed = self._event(event_id, now)
        event, version = listed.event, listed.version
        program = self.programs.program()
        ladder = program.tiers.at(now)
        waitlist = False
        seq = 0
        known = Balance(available=event.points_cost)
        code = new_code()
        for _ in range(ATTEMPTS):
            allowed = _precheck(event, now, ladder)
            paid_now = not waitlist and event.points_cost > 0  # the profile is then an update, with its old image
            tx = self._registration(member_id, event, version, program, now, allowed=allowed, waitlist=waitlist,
                                    seq=seq + 1, known=known, code=code)
            try:
                tx.commit()
            except TransactionCancelled as c:
                if c.failed_on("registration"):
                    raise UserError(ErrorCode.ALREADY_REGISTERED, "You are registered for this event already.",
                                    "eventId") from None
                if c.failed_on("invitation"):
                    raise UserError(ErrorCode.NOT_INVITED, "This event is by invitation only.", "eventId") from None
                if c.failed_on("no-shows"):
                    raise UserError(ErrorCode.NO_SHOW_LIMIT, "Missed events block new registrations for now.",
                                    "eventId") from None
                if c.failed_on("ticket"):
                    code = new_code()  # a code already in use (never seen in practice): draw another
                    continue
                if c.failed_on("profile"):
                    raw = c.old("profile")
                    if raw is None and not paid_now:
                        # A ConditionCheck returns no old image: read the profile, only now that it refused.
                        profile = self._profile(member_id)
                        if profile is None:
                            raise UserError(ErrorCode.NOT_ENROLLED, "Enroll before registering.", "eventId") from None
                        raise _gate_error(event, now, ladder, profile.tier_announced) from None
                    if raw is None:
                        raise UserError(ErrorCode.NOT_ENROLLED, "Enroll before registering.", "eventId") from None
                    if allowed is not None and _s(raw, "tierAnnounced") not in allowed:
                        raise _gate_error(event, now, ladder, _s(raw, "tierAnnounced")) from None
                    known = balance_of(raw) or known  # the charge is built again from the real balance
                if c.failed_on("event"):
                    old = event_from_raw(c.old("event"))
                    if old is None:
                        raise UserError(ErrorCode.NOT_FOUND, "No such event.", "eventId") from None
                    if old.status != EventStatus.SCHEDULED.value:
                        raise UserError(ErrorCode.EVENT_CANCELLED, "This event was cancelled.", "eventId") from None
                    if int(old.version) != version:
                        event, version = event_of(old), int(old.version)  # edited meanwhile: decide again
                    seq = int(old.wait_seq)
                    waitlist = int(old.taken) >= int(old.capacity) or int(old.waitlisted) > 0
                continue
            if waitlist:
                return Registered(event_id, member_id, RegistrationState.WAITLISTED, seq=seq + 1)
            return Registered(event_id, member_id, RegistrationState.CONFIRMED, points_paid=event.points_cost)
        raise UserError(ErrorCode.CONFLICT, "Too many registrations at once; try again.", "eventId")

    def _registration(self, member_id: str, event: VipEvent, version: int, program: Program, now: datetime, *,
                      allowed: frozenset[str] | None, waitlist: bool, seq: int, known: Balance, code: str) -> Transaction:
        tenant = self.tenant
        epk, mpk = keys.vip_event_pk(tenant, event.event_id), keys.member_pk(tenant, member_id)
        now_iso = now.isoformat()
        R, E, P = RegistrationItem, VipEventItem, MemberProfile
        state = RegistrationState.WAITLISTED if waitlist else RegistrationState.CONFIRMED
        paid = 0 if waitlist else event.points_cost
        tx = Transaction()
        tx.put("registration", R(
            epk, keys.registration_sk(member_id), event_id=event.event_id, member_id=member_id, state=state.value,
            seq=seq if waitlist else None, points_paid=paid, policy=event.cancellation.to_dict(), code=code,
            registered_at=now_iso, version=1, GSI1PK=keys.member_tickets_pk(tenant, member_id),
            GSI1SK=tickets_sk(event)), R.PK.does_not_exist() | (R.state == RegistrationState.CANCELLED.value))
        tx.put("ticket", TicketLookup(keys.ticket_pk(tenant, code_hash(code)), keys.TICKET_SK, event_id=event.event_id,
                                      member_id=member_id), TicketLookup.PK.does_not_exist())
        base = (E.status == EventStatus.SCHEDULED.value) & (E.version == version)
        if waitlist:
            tx.update("event", E(epk, keys.VIP_EVENT_SK), [E.wait_seq.add(1), E.waitlisted.add(1)],
                      base & (E.wait_seq == seq - 1) & ((E.taken >= E.capacity) | (E.waitlisted > 0)))
            tx.put("wait", WaitlistEntry(epk, keys.waitlist_sk(seq), member_id=member_id, joined_at=now_iso),
                   WaitlistEntry.PK.does_not_exist())
        else:
            tx.update("event", E(epk, keys.VIP_EVENT_SK), [E.taken.add(1), E.confirmed.add(1)],
                      base & (E.taken < E.capacity) & (E.waitlisted == 0))
        tier_condition = P.tier_announced.is_in(*sorted(allowed)) if allowed else None
        if paid:
            MemberLedger(tenant, member_id, now, program).add(
                tx, Change(spend(known, paid), EntryType.REDEEM, reason=f"VIP event: {event.title}",
                           source=f"vip:{event.event_id}"), known, extra_condition=tier_condition)
        else:
            tx.check("profile", P, mpk, keys.PROFILE, P.PK.exists() & tier_condition if tier_condition is not None
                     else P.PK.exists())
        if event.invited_only:
            tx.check("invitation", Invitation, epk, f"{keys.INVITATION_PREFIX}{member_id}", Invitation.PK.exists())
        S = MemberVipStats
        tx.check("no-shows", S, mpk, keys.VIP_STATS_SK, S.blocked_until.does_not_exist() | (S.blocked_until <= now_iso))
        tx.put("outbox", outbox_event(tenant, mpk, f"vip_event.{'waitlisted' if waitlist else 'registered'}", {
            "memberId": member_id, "eventId": event.event_id, "state": state.value,
            **({"seq": seq} if waitlist else {"pointsPaid": paid})}, now_iso, int(now.timestamp())))
        return tx

    # -- cancelling, expiring offers, filling free seats ------------------------------------------------
    def cancel(self, member_id: str, event_id: str, now: datetime, *, actor: str | None = None,
               reason: str | None = None) -> Released:
        """The member's own cancellation (or staff's for them, `actor` and `reason`, audited)."""
        return self._release(member_id, event_id, now, states=RELEASABLE, cause=reason or "CANCELLED_BY_MEMBER",
                             actor=actor, staff_reason=reason)

    def expire_offer(self, member_id: str, event_id: str, now: datetime) -> Released | None:
        """An offer whose hold has passed goes to the next eligible member; None when it was not (or no
        longer) an expired offer."""
        try:
            return self._release(member_id, event_id, now, states=frozenset({RegistrationState.OFFERED}),
                                 cause=wait_rules.OFFER_EXPIRED, expired_only=True)
        except UserError as e:
            if e.code in (ErrorCode.NOT_REGISTERED, ErrorCode.NOT_FOUND, ErrorCode.EVENT_CANCELLED):
                return None
            raise

    def _release(self, member_id: str, event_id: str, now: datetime, *, states: frozenset[RegistrationState],
                 cause: str, actor: str | None = None, staff_reason: str | None = None,
                 expired_only: bool = False) -> Released:
        program = self.programs.program()
        tenant = self.tenant
        epk, mpk = keys.vip_event_pk(tenant, event_id), keys.member_pk(tenant, member_id)
        known = Balance()
        for _ in range(ATTEMPTS):
            item, reg = scheduled_event_and_registration(tenant, event_id, member_id,
                                                         cancelled="This event was cancelled; its refunds are on the way.")
            state = RegistrationState(reg.state) if reg else None
            if reg is None or state not in states:
                if state is RegistrationState.ATTENDED:
                    raise UserError(ErrorCode.ALREADY_CHECKED_IN, "A registration checked in cannot be cancelled.",
                                    "eventId")
                raise UserError(ErrorCode.NOT_REGISTERED, "There is no registration to cancel.", "eventId")
            if expired_only and (reg.offer_expires_at is None or reg.offer_expires_at > now.isoformat()):
                raise UserError(ErrorCode.NOT_REGISTERED, "The offer still holds.", "eventId")
            event = event_of(item)
            assert state is not None
            if actor is None and not expired_only and now >= event.starts_at:
                raise UserError(ErrorCode.REGISTRATION_CLOSED, "The event has started: its registrations stay as they "
                                                               "are (staff may still cancel one).", "eventId")
            tx = Transaction()
            R = RegistrationItem
            tx.update("registration", R(epk, reg.SK), [
                R.state.set(RegistrationState.CANCELLED.value), R.reason.set(cause), R.updated_at.set(now.isoformat()),
                R.version.add(1), R.GSI2PK.remove(), R.GSI2SK.remove(), R.seq.remove()],
                (R.state == state.value) & (R.version == int(reg.version)))
            if reg.code:
                tx.delete("ticket", ticket_key(tenant, reg.code))
            refund = policy.member_cancellation_refund(policy.CancellationPolicy.from_dict(reg.policy),
                                                       int(reg.points_paid), event.starts_at, now, state)
            if refund:
                MemberLedger(tenant, member_id, now, program).add(
                    tx, Change(credit(known, refund, counts_toward_lifetime=False), EntryType.REDEMPTION_CANCELLED,
                               reason=f"VIP event cancelled: {event.title}", source=f"vip:{event_id}",
                               actor=actor, activity=actor is None), known)
            deltas = Deltas()
            if state is RegistrationState.WAITLISTED:
                deltas.waitlisted -= 1
                if reg.seq is not None:
                    tx.delete("own-wait", WaitlistEntry(epk, keys.waitlist_sk(int(reg.seq))))
            else:
                deltas.taken -= 1
                if state is RegistrationState.CONFIRMED:
                    deltas.confirmed -= 1
                else:
                    deltas.offered -= 1
            promoted: list[str] = []
            skipped: list[str] = []
            if state is not RegistrationState.WAITLISTED and int(item.waitlisted) > 0 \
                    and wait_rules.seats_promotable(event, now):
                self._fill_one(tx, event, program, now, deltas, promoted, skipped, exclude=member_id)
            E = VipEventItem
            tx.update("event", E(epk, keys.VIP_EVENT_SK), deltas.actions(),
                      (E.version == int(item.version)) & (E.status == EventStatus.SCHEDULED.value))
            tx.put("outbox", outbox_event(tenant, mpk, "vip_event.registration_cancelled", {
                "memberId": member_id, "eventId": event_id, "before": state.value, "reason": cause,
                "refunded": refund}, now.isoformat(), int(now.timestamp())))
            if actor is not None:
                tx.put("audit", audit_entry(tenant, actor, "vip_event.registration_cancel", now, member_id=member_id,
                                            detail={"eventId": event_id, "before": state.value, "refunded": refund},
                                            reason=staff_reason))
            try:
                tx.commit()
            except TransactionCancelled as c:
                if c.failed_on("profile"):
                    known = balance_of(c.old("profile")) or known
                continue  # a state, a head or the counters moved: read again and rebuild
            done = Released(event_id, member_id, state, refund, promoted, skipped)
            if not promoted and skipped:
                more = self.fill(event_id, now)  # every head read was skipped: the seat goes on down the list
                done = replace(done, promoted=more.promoted, skipped=skipped + more.skipped)
            return done
        raise UserError(ErrorCode.CONFLICT, "The event kept changing; try again.", "eventId")

    def _fill_one(self, tx: Transaction, event: VipEvent, program: Program, now: datetime, deltas: Deltas,
                  promoted: list[str], skipped: list[str], exclude: str | None = None) -> bool:
        """Move heads into one seat inside `tx` until one takes it (True) or the heads read run out."""
        for head in heads(self.tenant, event.event_id):
            if head.member_id == exclude:
                continue
            moved = move_head(tx, self.tenant, event, head, program, now, deltas)
            if moved is None:
                continue
            if moved.fills_seat:
                promoted.append(head.member_id)
                return True
            skipped.append(head.member_id)
        return False

    def fill(self, event_id: str, now: datetime) -> Released:
        """Give every free seat to the waitlist, one seat per transaction (after skipped heads ran past what
        one transaction read, or after staff raised the capacity)."""
        program = self.programs.program()
        epk = keys.vip_event_pk(self.tenant, event_id)
        promoted: list[str] = []
        skipped: list[str] = []
        conflicts = 0
        while conflicts < ATTEMPTS:
            item = self.catalog.item(event_id)
            if item is None or item.status != EventStatus.SCHEDULED.value or int(item.waitlisted) <= 0 \
                    or int(item.taken) >= int(item.capacity):
                break
            event = event_of(item)
            if not wait_rules.seats_promotable(event, now):
                break
            tx = Transaction()
            deltas = Deltas()
            these_promoted: list[str] = []
            these_skipped: list[str] = []
            self._fill_one(tx, event, program, now, deltas, these_promoted, these_skipped)
            if len(tx) == 0:
                break
            E = VipEventItem
            condition = (E.version == int(item.version)) & (E.status == EventStatus.SCHEDULED.value)
            if deltas.taken > 0:
                condition &= E.taken < E.capacity
            if deltas.actions():
                tx.update("event", E(epk, keys.VIP_EVENT_SK), deltas.actions(), condition)
            try:
                tx.commit()
            except TransactionCancelled:
                conflicts += 1
                continue
            promoted += these_promoted
            skipped += these_skipped
        return Released(event_id, "", RegistrationState.CONFIRMED, 0, promoted, skipped)

    # -- invitations ------------------------------------------------------------------------------------
    def invite(self, event_id: str, member_ids: list[str], actor: str, now: datetime) -> int:
        """Put an invitation for each member (again: no change but the date) and tell each of them; audited."""
        if self.catalog.item(event_id) is None:
            raise UserError(ErrorCode.NOT_FOUND, "No such event.", "eventId")
        epk = keys.vip_event_pk(self.tenant, event_id)
        unique = list(dict.fromkeys(member_ids))
        for i in range(0, len(unique), INVITES_PER_TRANSACTION):
            chunk = unique[i:i + INVITES_PER_TRANSACTION]
            tx = Transaction()
            for m in chunk:
                tx.put(f"invite:{m}", Invitation(epk, f"{keys.INVITATION_PREFIX}{m}", member_id=m,
                                                 invited_at=now.isoformat(), invited_by=actor))
                tx.put(f"notice:{m}", outbox_event(self.tenant, keys.member_pk(self.tenant, m), "vip_event.invited",
                                                   {"memberId": m, "eventId": event_id}, now.isoformat(),
                                                   int(now.timestamp())))
            tx.put("audit", audit_entry(self.tenant, actor, "vip_event.invite", now,
                                        detail={"eventId": event_id, "memberIds": chunk}))
            tx.commit()
        return len(unique)


INVITES_PER_TRANSACTION = 40  # two items each and the audit entry: within DynamoDB's 100


def _precheck(event: VipEvent, now: datetime, ladder: Any) -> frozenset[str] | None:
    """Refusals that follow from the definition alone (no write); the tiers the profile must announce."""
    if event.status is EventStatus.CANCELLED:
        raise UserError(ErrorCode.EVENT_CANCELLED, "This event was cancelled.", "eventId")
    if now >= closes_at(event):
        raise UserError(ErrorCode.REGISTRATION_CLOSED, "Registration for this event has closed.", "eventId")
    allowed = gate.allowed_tiers(event, ladder, now)
    if allowed is not None and not allowed:
        raise _gate_error(event, now, ladder, None, known_tier=False)
    return allowed


def _gate_error(event: VipEvent, now: datetime, ladder: Any, tier_id: str | None, *, known_tier: bool = True) -> UserError:
    """TIER_REQUIRED when the member's tier (or, not knowing it, every tier) is below the gate; else the
    window has not opened for their tier yet."""
    if event.min_tier_rank is None:
        gate_ok = True
    elif ladder is None:
        gate_ok = False
    elif known_tier:
        gate_ok = gate.meets_gate(event, ladder.by_id(tier_id) if tier_id else None)
    else:
        gate_ok = any(gate.meets_gate(event, t) for t in ladder.tiers)
    if gate_ok:
        return UserError(ErrorCode.NOT_OPEN_YET, "Registration for this event has not opened yet.", "eventId")
    return UserError(ErrorCode.TIER_REQUIRED, "This event needs a higher tier.", "eventId")
