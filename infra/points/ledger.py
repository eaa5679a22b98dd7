"""Turns a points change into transaction parts: the balance update with its conditions, the
ledger entry, the lot it adds to, and the outbox event. Every points-changing use case goes through here."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, Callable

from domain.errors import ErrorCode, UserError
from domain.points.balance import Balance, EntryStatus, EntryType, Movement
from domain.points.lots import bucket, inactivity_expiry, lot_expiry
from domain.points.program import ExpiryMode, Program
from infra import keys
from infra.ids import new_ulid
from infra.items import MemberProfile
from infra.members import outbox_event
from infra.points.items import LedgerEntry, PointLot
from infra.tiers.state import Qualification, qualification_actions
from infra.transaction import Transaction, TransactionCancelled

NEVER = "9999-12-31T00:00:00+00:00"  # the expiry in the keys of undated lots written before buckets
POST_ATTEMPTS = 8


@dataclass(frozen=True)
class Change:
    """One points change for one member: how the buckets move, and what the ledger says about it."""

    movement: Movement
    entry_type: EntryType
    status: EntryStatus = EntryStatus.POSTED
    reason: str | None = None
    source: str | None = None
    order_id: str | None = None
    reward_id: str | None = None
    coupon_code: str | None = None
    actor: str | None = None
    activity: bool = True  # counts as member activity (resets the inactivity clock)
    event: str | None = None  # outbox event type
    event_detail: dict[str, Any] | None = None
    qualifying: Qualification | None = None  # what it adds to (or takes from) tier qualification


def balance_of(raw: dict[str, Any] | None) -> Balance | None:
    """A Balance from a raw DynamoDB image of the profile (as returned on a failed condition)."""
    if raw is None:
        return None

    def n(name: str) -> int:
        v = raw.get(name)
        return int(v["N"]) if v else 0

    return Balance(available=n("available"), pending=n("pending"), lifetime=n("lifetime"), debt=n("debt"))


def profile_balance(p: MemberProfile) -> Balance:
    return Balance(int(p.available), int(p.pending), int(p.lifetime), int(p.debt))


def last_activity(p: MemberProfile) -> datetime:
    """When the member was last active; a profile from before activity was recorded: when they joined."""
    return datetime.fromisoformat(p.last_activity_at or p.joined_at)


def inactive_mark(member_id: str, at: datetime) -> str:
    """The due-index sort key (GSI2 `DUE#INACTIVE`) of a member due for inactivity expiry at `at`."""
    return f"{at.isoformat()}#{member_id}"


def part_label(label: str, part: str) -> str:
    """The label of a ledger change's `part` ("entry", "lot", "event") when its profile is `label`."""
    return part if label == "profile" else f"{label}.{part}"


class MemberLedger:
    """Writes one member's points changes. `known` is the balance the change was computed from."""

    def __init__(self, tenant: str, member_id: str, now: datetime, program: Program):
        self.tenant = tenant
        self.member_id = member_id
        self.now = now
        self.now_iso = now.isoformat()
        self.program = program
        self.pk = keys.member_pk(tenant, member_id)

    def entry_key(self) -> str:
        return f"{keys.LEDGER_PREFIX}{new_ulid(int(self.now.timestamp() * 1000))}"

    def add(self, tx: Transaction, change: Change, known: Balance, entry_key: str | None = None,
            extra_condition: Any = None, extra_actions: list[Any] | None = None, label: str = "profile") -> str:
        """Add the balance update (labelled `label`, "profile" by default), the entry, the lot it adds to
        and the event to `tx`. Two members' changes in one transaction need distinct labels: with another
        label the other parts are named `<label>.entry`, `<label>.lot`, `<label>.event`."""
        m = change.movement
        P = MemberProfile
        actions: list[Any] = [P.version.add(1), *(extra_actions or [])]
        for attr, delta in ((P.available, m.available), (P.pending, m.pending), (P.debt, m.debt),
                            (P.lifetime, m.lifetime), (P.lots_consumed, m.consumed)):
            if delta:
                actions.append(attr.add(delta))
        condition = P.PK.exists()
        if m.available < 0:
            condition &= P.available >= -m.available
        if m.pending < 0:
            condition &= P.pending >= -m.pending
        if m.new_lot > 0 or m.debt < 0:
            # How much of a credit repays debt was computed from `known.debt`: it must still hold.
            condition &= P.debt == known.debt
        if m.debt > 0:
            # Debt is only for what available could not cover: `known.available` must still hold.
            condition &= P.available == known.available
        if extra_condition is not None:
            condition &= extra_condition
        if change.qualifying is not None:
            # Tier qualification moves in the same update, read-free: the tier is computed from it
            # (domain/tiers/status.py), so a credit that crosses a threshold upgrades as it commits.
            actions += qualification_actions(change.qualifying, self.program.tiers.at(self.now),
                                             self.program.timezone, self.now, self.tenant, self.member_id)
        if change.activity:
            actions.append(P.last_activity_at.set(self.now_iso))
            idle_at = inactivity_expiry(self.now, self.program)
            if idle_at is not None:
                actions += [P.GSI2PK.set(keys.due_pk(self.tenant, "INACTIVE")),
                            P.GSI2SK.set(inactive_mark(self.member_id, idle_at))]
        elif m.new_lot > 0 and self.program.expiry_mode is ExpiryMode.AFTER_INACTIVITY:
            # Points without an activity (a release, a staff adjustment) to a member the inactivity job
            # may not find: once it expired them, or before the switch to this rule, they carry no due mark.
            # Their date is the last activity plus N months, which this update cannot compute from a value
            # it does not read; so a missing mark is set to now, and the job, finding the member tonight,
            # expires everything if that date is past or moves the mark to it. A mark already there
            # (written by the last activity) stays.
            actions += [P.GSI2PK.set(keys.due_pk(self.tenant, "INACTIVE")),
                        P.GSI2SK.set(P.GSI2SK | inactive_mark(self.member_id, self.now))]
        tx.update(label, MemberProfile(self.pk, keys.PROFILE), actions, condition)

        key = entry_key or self.entry_key()
        if m.net or change.status is EntryStatus.PENDING:
            tx.put(part_label(label, "entry"), LedgerEntry(
                self.pk, key, member_id=self.member_id, entry_type=change.entry_type.value, points=m.net,
                status=change.status.value, reason=change.reason, source=change.source, order_id=change.order_id,
                reward_id=change.reward_id, coupon_code=change.coupon_code, actor=change.actor,
                created_at=self.now_iso), LedgerEntry.PK.does_not_exist())
        if m.new_lot > 0:
            self.add_lot(tx, m.new_lot, label=label)
        if change.event:
            tx.put(part_label(label, "event"), outbox_event(self.tenant, self.pk, change.event,
                                         {"memberId": self.member_id, "points": m.net, "type": change.entry_type.value,
                                          "entry": key, **({"qualifying": change.qualifying.points,
                                                            "qualMonth": change.qualifying.month}
                                                           if change.qualifying else {}),
                                          **(change.event_detail or {})},
                                         self.now_iso, int(self.now.timestamp())))
        return key

    def add_lot(self, tx: Transaction, points: int, label: str = "profile") -> None:
        """Points join the bucket of everything that expires when they do: an UpdateItem that creates
        or grows it (ADD), so a credit reads nothing and a member has one lot per expiry, not per credit.
        The other attributes are the same on every add; `reminded` is cleared so that points arriving
        after an expiring-soon reminder are announced too. A bucket carries only what the jobs need
        (every byte of it is read by each dashboard Query): its member is in its key, and its due-index
        sort key is its expiry alone (the index orders equal keys by the table's keys)."""
        expires = lot_expiry(self.now, self.program)
        L = PointLot
        actions = [L.points.add(points), L.kind.set(PointLot), L.reminded.set(False)]
        if expires:
            actions += [L.expires_on.set(expires.isoformat()), L.GSI2PK.set(keys.due_pk(self.tenant, "EXPIRE")),
                        L.GSI2SK.set(expires.isoformat())]
        tx.update(part_label(label, "lot"), PointLot(self.pk, keys.lot_sk(bucket(expires))), actions)


def post(build: Callable[[Balance], Transaction], *, assume: Balance = Balance(),
         attempts: int = POST_ATTEMPTS) -> Balance:
    """Commit a change computed from a balance. The first try assumes `assume` (no read); if the
    profile's conditions say otherwise, the real balance comes back with the failure and the change
    is computed again from it. Domain rules (e.g. not enough points) raise from `build`.
    Returns the balance the committed change was computed from."""
    known = assume
    for _ in range(attempts):
        tx = build(known)
        try:
            tx.commit()
            return known
        except TransactionCancelled as c:
            others = {k: v for k, v in c.failed.items() if k != "profile"}
            if others:
                raise
            actual = balance_of(c.old("profile"))
            if actual is None:
                raise UserError(ErrorCode.NOT_ENROLLED, "This member has not enrolled.", "memberId") from None
            known = actual
    raise UserError(ErrorCode.CONFLICT, "The balance kept changing; try again.")
