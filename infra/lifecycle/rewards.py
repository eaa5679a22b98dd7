"""Anniversaries and order milestones, each rewarded once (domain/lifecycle/anniversaries.py).

`reward_once` is one transaction: the source mark `SRC#lifecycle:<key>` (`attribute_not_exists`: once per
member and key, ever), the optional points through the member's ledger (a BONUS, not activity), and the
outbox event (`anniversary.rewarded`, `milestone.reached`). Stored per member:
- `~LIFE#ANNIV`: the local join day, the anniversaries done, and the next one's day in GSI2
  `T#t#DUE#ANNIV` / `<that day's start, UTC>#<member>` (the `anniversaries` job reads it; never a Scan);
- `~LIFE#ORDERS`: the member's orders counted (one per `points.earned` of an order, once per event).
"""
from __future__ import annotations

from datetime import date, datetime

from pynamodb.attributes import NumberAttribute, UnicodeAttribute

from domain import calendar
from domain.lifecycle.anniversaries import Milestone, anniversary_day
from domain.points.balance import Balance, EntryType, credit
from domain.points.program import Program
from infra import keys
from infra.dynamo_errors import call, conditional
from infra.events.model import Event, once
from infra.items.base import TableItem
from infra.members import outbox_event
from infra.points.items import SourceMark
from infra.points.ledger import Change, MemberLedger, post
from infra.transaction import Transaction, TransactionCancelled

ANNIVERSARY_SK = "~LIFE#ANNIV"
ORDERS_SK = "~LIFE#ORDERS"
ANNIVERSARY_DUE = "ANNIV"


class AnniversaryItem(TableItem, discriminator="life-anniversary"):
    member_id = UnicodeAttribute(attr_name="memberId")
    joined_day = UnicodeAttribute(attr_name="joinedDay")  # the local day they joined, YYYY-MM-DD
    years_done = NumberAttribute(default=0, attr_name="yearsDone")
    next_day = UnicodeAttribute(attr_name="nextDay")


class OrderCount(TableItem, discriminator="life-orders"):
    count = NumberAttribute(default=0)


def anniversary_item(tenant: str, member_id: str, joined: date, years_done: int, program: Program) -> AnniversaryItem:
    nxt = anniversary_day(joined, joined.year + years_done + 1)
    item = AnniversaryItem(keys.member_pk(tenant, member_id), ANNIVERSARY_SK, member_id=member_id,
                           joined_day=joined.isoformat(), years_done=years_done, next_day=nxt.isoformat())
    item.GSI2PK = keys.due_pk(tenant, ANNIVERSARY_DUE)
    item.GSI2SK = f"{calendar.day_start(nxt, program.timezone).isoformat()}#{member_id}"
    return item


def start_anniversaries(tenant: str, member_id: str, joined_at: datetime, program: Program) -> None:
    """At enrollment: the first anniversary's due day. A replay finds it written and changes nothing."""
    item = anniversary_item(tenant, member_id, program.local_time(joined_at).date(), 0, program)
    conditional(lambda: item.save(AnniversaryItem.PK.does_not_exist()), what="anniversary")


def reward_once(tenant: str, member_id: str, milestone: Milestone, points: int, program: Program,
                now: datetime) -> bool:
    """The milestone's reward and event, once; False when it was rewarded before."""
    ledger = MemberLedger(tenant, member_id, now, program)
    cause = f"lifecycle:{milestone.key}"
    event_type = "anniversary.rewarded" if milestone.kind == "ANNIVERSARY" else "milestone.reached"

    def build(known: Balance) -> Transaction:
        tx = Transaction()
        tx.put("source", SourceMark(ledger.pk, f"{keys.SOURCE_PREFIX}{cause}", cause=cause,
                                    created_at=now.isoformat()), SourceMark.PK.does_not_exist())
        if points > 0:
            ledger.add(tx, Change(credit(known, points), EntryType.BONUS, reason=milestone.key, source=cause,
                                  activity=False, event="points.earned", event_detail={"lifecycle": milestone.key}),
                       known)
        tx.put("event", outbox_event(tenant, ledger.pk, event_type, {
            "memberId": member_id, "milestone": milestone.key, "kind": milestone.kind, "count": milestone.count,
            "points": points}, now.isoformat(), int(now.timestamp())))
        return tx

    try:
        post(build)
    except TransactionCancelled as c:
        if c.failed_on("source"):
            return False
        raise
    return True


def order_count(tenant: str, member_id: str) -> int:
    try:
        return int(call(lambda: OrderCount.get(keys.member_pk(tenant, member_id), ORDERS_SK, consistent_read=True),
                        what="order count").count)
    except OrderCount.DoesNotExist:
        return 0


def count_order(event: Event, listener: str, now: datetime) -> int | None:
    """Count the order this `points.earned` is for, once per event; the count after it, or None if this
    event was counted before."""
    pk = event.member_pk
    for _ in range(5):
        try:
            before = int(call(lambda: OrderCount.get(pk, ORDERS_SK, consistent_read=True), what="order count").count)
        except OrderCount.DoesNotExist:
            before = 0
        tx = Transaction()
        once(tx, event, listener, int(now.timestamp()))
        tx.put("count", OrderCount(pk, ORDERS_SK, count=before + 1),
               OrderCount.PK.does_not_exist() if before == 0 else OrderCount.count == before)
        try:
            tx.commit()
            return before + 1
        except TransactionCancelled as c:
            if c.failed_on("once"):
                return None
            if not c.failed_on("count"):
                raise
    raise RuntimeError(f"member {event.member_id}'s order count kept changing")
