"""The waitlist of one event: its head read in join order, and the parts that move a head into a freed
seat (or skip it) inside the transaction that frees the seat.

The head is a consistent Query of `WAIT#` (a few entries), then one BatchGetItem of their registrations and
profiles (tier and points decide: domain/vip_events/waitlist.py). Each move deletes the head's `WAIT#`
conditioned on it existing and changes its registration conditioned on WAITLISTED and its version: two
cancellations racing for one head cannot both take it; the loser's transaction fails on that delete and is
rebuilt with the next head."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from domain.points.balance import Balance, EntryType, spend
from domain.points.program import Program
from domain.vip_events import waitlist as rules
from domain.vip_events.checkin import code_hash
from domain.vip_events.model import RegistrationState, VipEvent
from infra import keys
from infra.dynamo_errors import call
from infra.items import MemberProfile
from infra.members import outbox_event
from infra.points.ledger import Change, MemberLedger, profile_balance
from infra.tiers.standing import member_standing
from infra.transaction import Transaction
from infra.items.batch import batch_get
from infra.vip_events.items import RegistrationItem, TicketLookup, WaitlistEntry

HEADS = 5  # entries read per look at the head; a longer run of skipped heads continues in the next transaction


@dataclass
class Head:
    entry: WaitlistEntry
    registration: RegistrationItem | None
    profile: MemberProfile | None

    @property
    def member_id(self) -> str:
        return self.entry.member_id

    @property
    def seq(self) -> int:
        return int(self.entry.SK.removeprefix(keys.WAITLIST_PREFIX))


@dataclass
class Deltas:
    """What the moves add to the event's counters (one update of the EVENT item per transaction)."""

    taken: int = 0
    confirmed: int = 0
    offered: int = 0
    waitlisted: int = 0

    def actions(self) -> list[Any]:
        from infra.vip_events.items import VipEventItem as E
        return [attr.add(n) for attr, n in ((E.taken, self.taken), (E.confirmed, self.confirmed),
                                            (E.offered, self.offered), (E.waitlisted, self.waitlisted)) if n]


def heads(tenant: str, event_id: str, limit: int = HEADS) -> list[Head]:
    """The first `limit` waitlist entries with their registrations and profiles (two requests)."""
    pk = keys.vip_event_pk(tenant, event_id)
    entries = call(lambda: list(WaitlistEntry.query(pk, WaitlistEntry.SK.startswith(keys.WAITLIST_PREFIX),
                                                    consistent_read=True, limit=limit)), what="waitlist")
    entries = [e for e in entries if isinstance(e, WaitlistEntry)][:limit]
    if not entries:
        return []
    wanted = [(pk, keys.registration_sk(e.member_id)) for e in entries]
    wanted += [(keys.member_pk(tenant, e.member_id), keys.PROFILE) for e in entries]
    found, _ = batch_get(wanted)
    regs = {i.member_id: i for i in found if isinstance(i, RegistrationItem)}
    profiles = {i.member_id: i for i in found if isinstance(i, MemberProfile)}
    return [Head(e, regs.get(e.member_id), profiles.get(e.member_id)) for e in entries]


def ticket_key(tenant: str, code: str) -> TicketLookup:
    return TicketLookup(keys.ticket_pk(tenant, code_hash(code)), keys.TICKET_SK)


def offer_due_key(expires: datetime, event_id: str, member_id: str) -> str:
    return f"{expires.isoformat()}#{event_id}#{member_id}"


def move_head(tx: Transaction, tenant: str, event: VipEvent, head: Head, program: Program, now: datetime,
              deltas: Deltas) -> rules.Promotion | None:
    """Add the head's move to `tx`: into the seat (CONFIRMED, charged now, or OFFERED) or skipped
    (CANCELLED with the reason). None for an entry whose registration left the list otherwise (its stale
    entry is removed)."""
    pk = keys.vip_event_pk(tenant, event.event_id)
    R = RegistrationItem
    tx.delete(f"wait:{head.seq}", WaitlistEntry(pk, head.entry.SK), WaitlistEntry.PK.exists())
    reg = head.registration
    if reg is None or reg.state != RegistrationState.WAITLISTED.value:
        return None
    standing = member_standing(head.profile, program, now) if head.profile else None
    promotion = rules.promote(event, now, tier=standing.tier if standing else None,
                              available=int(head.profile.available) if head.profile else 0,
                              ladder_present=program.tiers.at(now) is not None)
    member = head.member_id
    now_iso = now.isoformat()
    actions: list[Any] = [R.state.set(promotion.state.value), R.updated_at.set(now_iso), R.version.add(1),
                          R.seq.remove()]
    deltas.waitlisted -= 1
    mpk = keys.member_pk(tenant, member)
    if promotion.state is RegistrationState.CONFIRMED:
        deltas.taken += 1
        deltas.confirmed += 1
        if promotion.charge:
            actions.append(R.points_paid.set(promotion.charge))
            known = profile_balance(head.profile) if head.profile else Balance()
            MemberLedger(tenant, member, now, program).add(
                tx, Change(spend(known, promotion.charge),
                           EntryType.REDEEM, reason=f"VIP event: {event.title}", source=f"vip:{event.event_id}"),
                known, label=f"charge:{member}")
        event_type = "vip_event.waitlist_promoted"  # confirmed from the waitlist: the member is told
    elif promotion.state is RegistrationState.OFFERED:
        deltas.taken += 1
        deltas.offered += 1
        assert promotion.offer_expires_at is not None
        actions += [R.offer_expires_at.set(promotion.offer_expires_at.isoformat()),
                    R.GSI2PK.set(keys.due_pk(tenant, "VIPOFFER")),
                    R.GSI2SK.set(offer_due_key(promotion.offer_expires_at, event.event_id, member))]
        event_type = "vip_event.offered"
    else:
        actions.append(R.reason.set(promotion.reason or ""))
        if reg.code:
            tx.delete(f"ticket:{member}", ticket_key(tenant, reg.code))
        event_type = "vip_event.waitlist_skipped"
    tx.update(f"reg:{member}", R(pk, reg.SK), actions,
              (R.state == RegistrationState.WAITLISTED.value) & (R.version == int(reg.version)))
    tx.put(f"notice:{member}", outbox_event(tenant, mpk, event_type, {
        "memberId": member, "eventId": event.event_id, "state": promotion.state.value,
        **({"reason": promotion.reason} if promotion.reason else {}),
        **({"offerExpiresAt": promotion.offer_expires_at.isoformat()} if promotion.offer_expires_at else {}),
        **({"pointsPaid": promotion.charge} if promotion.charge else {})}, now_iso, int(now.timestamp())))
    return promotion
