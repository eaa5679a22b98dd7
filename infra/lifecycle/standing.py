"""A member's lifecycle standing as stored: `T#t#M#<m>` / `~LIFE#LAPSE` (domain/lifecycle/lapse.py).

- ACTIVE, with the last qualifying activity and, while the program lapses members, the day it lapses:
  GSI2 `T#t#DUE#LAPSE` / `<dueAt>#<member>` (the `lapse` job reads it; never a Scan).
- LAPSED, with when: GSI1 `T#t#LAPSED` / `<lapsedAt>#<member>` (`lapsedMembers`, oldest first, for
  export). Never deleted: a lapsed member is only marked.

Every move is one transaction of the item, conditioned on the version read, with its outbox event
(`member.lapsed`, `member.returned`), so a job run twice or a stream batch handled again moves nothing
twice and tells nothing twice.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from pynamodb.attributes import NumberAttribute, UnicodeAttribute

from domain.lifecycle.lapse import Standing, due_day, lapse_due, on_activity, on_due
from infra import keys
from infra.dynamo_errors import call, conditional
from infra.items.base import TableItem
from infra.members import outbox_event
from infra.pages import Page, page, start_key
from infra.transaction import Transaction, TransactionCancelled

STANDING_SK = "~LIFE#LAPSE"
LAPSE_DUE = "LAPSE"


def lapsed_pk(tenant: str) -> str:
    keys.check_tenant(tenant)
    return f"T#{tenant}#LAPSED"


class StandingItem(TableItem, discriminator="life-standing"):
    member_id = UnicodeAttribute(attr_name="memberId")
    standing = UnicodeAttribute()
    last_activity_at = UnicodeAttribute(attr_name="lastActivityAt")
    due_at = UnicodeAttribute(null=True, attr_name="dueAt")
    lapsed_at = UnicodeAttribute(null=True, attr_name="lapsedAt")
    version = NumberAttribute(default=1)


@dataclass(frozen=True)
class LapsedMember:
    member_id: str
    lapsed_at: datetime
    last_activity_at: datetime


class Standings:
    def __init__(self, tenant: str):
        self.tenant = tenant

    def get(self, member_id: str) -> StandingItem | None:
        try:
            return call(lambda: StandingItem.get(keys.member_pk(self.tenant, member_id), STANDING_SK,
                                                 consistent_read=True), what="member standing")
        except StandingItem.DoesNotExist:
            return None

    def start(self, member_id: str, last_activity: datetime, lapse_after_days: int | None) -> bool:
        """A standing for a member who has none (the backfill): ACTIVE since `last_activity`. False when
        the member has one already (the listener's is newer than anything a backfill knows)."""
        due = due_day(last_activity, lapse_after_days)
        item = StandingItem(keys.member_pk(self.tenant, member_id), STANDING_SK, member_id=member_id,
                            standing=Standing.ACTIVE.value, last_activity_at=last_activity.isoformat(),
                            due_at=due.isoformat(), version=1)
        item.GSI2PK, item.GSI2SK = keys.due_pk(self.tenant, LAPSE_DUE), f"{due.isoformat()}#{member_id}"
        return conditional(lambda: item.save(StandingItem.PK.does_not_exist()), what="member standing")

    def active(self, member_id: str, at: datetime, lapse_after_days: int | None, now: datetime) -> str | None:
        """Record qualifying activity at `at`: the last activity moves on (never back) and the due day with
        it; a lapsed member returns (MemberReturned). Returns the move's event type, if any."""
        for _ in range(3):
            item = self.get(member_id)
            if item is not None and datetime.fromisoformat(item.last_activity_at) >= at:
                return None  # this activity, or a later one, is recorded already
            standing = Standing(item.standing) if item is not None else Standing.ACTIVE
            move = on_activity(standing)
            due = due_day(at, lapse_after_days)
            fresh = StandingItem(keys.member_pk(self.tenant, member_id), STANDING_SK, member_id=member_id,
                                 standing=Standing.ACTIVE.value, last_activity_at=at.isoformat(),
                                 due_at=due.isoformat(), version=(int(item.version) + 1) if item else 1)
            fresh.GSI2PK, fresh.GSI2SK = keys.due_pk(self.tenant, LAPSE_DUE), f"{due.isoformat()}#{member_id}"
            tx = Transaction()
            tx.put("standing", fresh, StandingItem.PK.does_not_exist() if item is None
                   else StandingItem.version == item.version)
            if move is not None:
                tx.put("event", outbox_event(self.tenant, fresh.PK, move.event, {
                    "memberId": member_id, "lapsedAt": item.lapsed_at if item else None,
                    "lastActivityAt": at.isoformat()}, now.isoformat(), int(now.timestamp())))
            try:
                tx.commit()
                return move.event if move else None
            except TransactionCancelled as c:
                if not c.failed_on("standing"):
                    raise
        raise RuntimeError(f"member {member_id}'s standing kept changing")

    def lapse_if_due(self, item: StandingItem, lapse_after_days: int, now: datetime) -> str | None:
        """The lapse job's step for one due member: marked lapsed (MemberLapsed) when the setting in force
        says so; moved to its true due day when the setting is longer; nothing when it moved meanwhile."""
        last = datetime.fromisoformat(item.last_activity_at)
        move = on_due(Standing(item.standing), last, lapse_after_days, now)
        I = StandingItem
        tx = Transaction()
        if move is None:
            if item.standing == Standing.LAPSED.value:
                return None
            due = lapse_due(last, lapse_after_days)
            tx.update("standing", item, [I.due_at.set(due.isoformat()), I.GSI2SK.set(f"{due.isoformat()}#{item.member_id}")],
                      I.version == item.version)
        else:
            at = now.isoformat()
            tx.update("standing", item, [
                I.standing.set(Standing.LAPSED.value), I.lapsed_at.set(at), I.due_at.remove(), I.GSI2PK.remove(),
                I.GSI2SK.remove(), I.GSI1PK.set(lapsed_pk(self.tenant)), I.GSI1SK.set(f"{at}#{item.member_id}"),
                I.version.set(int(item.version) + 1)], I.version == item.version)
            tx.put("event", outbox_event(self.tenant, item.PK, move.event, {
                "memberId": item.member_id, "lastActivityAt": item.last_activity_at,
                "lapseAfterDays": lapse_after_days}, at, int(now.timestamp())))
        try:
            tx.commit()
        except TransactionCancelled as c:
            if c.failed_on("standing"):
                return None  # activity meanwhile: the member moved on
            raise
        return move.event if move else None

    def lapsed(self, first: int, after: dict | None) -> Page:
        pk = lapsed_pk(self.tenant)
        start = start_key(after, pk, "GSI1PK")
        return call(lambda: page(StandingItem.lookup.query(pk, None, limit=first + 1, last_evaluated_key=start),
                                 lambda i: LapsedMember(i.member_id, datetime.fromisoformat(i.lapsed_at),
                                                        datetime.fromisoformat(i.last_activity_at)),
                                 ("PK", "SK", "GSI1PK", "GSI1SK"), first), what="lapsed members")


