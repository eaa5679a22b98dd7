"""Tier changes: the history item, the `tier.changed` event and the profile's `tierAnnounced`, written
together in the transaction of whatever changed the tier (a credit's listener, the period-end job, staff).

`tierAnnounced` is the tier the history last recorded. Every writer conditions on it, so each change is
recorded once however many writers see it: two credits crossing the same threshold at once lead to one
history entry and one event."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from pynamodb.attributes import NumberAttribute, UnicodeAttribute

from domain.tiers.ladder import Tier
from infra import keys
from infra.dynamo_errors import call
from infra.ids import new_ulid
from infra.items import MemberProfile, TableItem
from infra.members import outbox_event
from infra.pages import Page, page, start_key
from infra.transaction import Transaction

HISTORY_PREFIX = "TIERLOG#"  # after PROG#~ and before TX#: outside the dashboard range


class TierChange(TableItem, discriminator="tier-change"):
    """`TIERLOG#<ulid>` in the member partition: one tier change and what caused it."""

    member_id = UnicodeAttribute(attr_name="memberId")
    from_tier = UnicodeAttribute(null=True, attr_name="fromTier")
    from_name = UnicodeAttribute(null=True, attr_name="fromName")
    from_rank = NumberAttribute(default=0, attr_name="fromRank")
    to_tier = UnicodeAttribute(null=True, attr_name="toTier")
    to_name = UnicodeAttribute(null=True, attr_name="toName")
    to_rank = NumberAttribute(default=0, attr_name="toRank")
    cause = UnicodeAttribute()  # CREDIT | PERIOD_END | GRACE_END | STAFF | STAFF_EXPIRY | RECALCULATION
    entry = UnicodeAttribute(null=True)  # the ledger entry whose credit crossed the threshold
    reason = UnicodeAttribute(null=True)
    actor = UnicodeAttribute(null=True)
    at = UnicodeAttribute()


@dataclass(frozen=True)
class Announcement:
    before: Tier | None
    after: Tier | None
    cause: str
    entry: str | None = None
    reason: str | None = None
    actor: str | None = None


def announce(tx: Transaction, tenant: str, member_id: str, announced: str | None, a: Announcement,
             now: datetime) -> tuple[list[Any], Any]:
    """Put the history entry and the event into `tx`; return the profile actions and condition that
    must join the profile's update in the same transaction (label it "profile")."""
    pk = keys.member_pk(tenant, member_id)
    ms = int(now.timestamp() * 1000)
    tx.put("history", TierChange(
        pk, f"{HISTORY_PREFIX}{new_ulid(ms)}", member_id=member_id,
        from_tier=a.before.id if a.before else None, from_name=a.before.name if a.before else None,
        from_rank=a.before.rank if a.before else 0, to_tier=a.after.id if a.after else None,
        to_name=a.after.name if a.after else None, to_rank=a.after.rank if a.after else 0, cause=a.cause,
        entry=a.entry, reason=a.reason, actor=a.actor, at=now.isoformat()))
    tx.put("tier-event", outbox_event(tenant, pk, "tier.changed", {
        "memberId": member_id, "fromTier": a.before.id if a.before else None,
        "fromRank": a.before.rank if a.before else 0, "toTier": a.after.id if a.after else None,
        "toName": a.after.name if a.after else None, "toRank": a.after.rank if a.after else 0,
        "cause": a.cause, **({"entry": a.entry} if a.entry else {})}, now.isoformat(), int(now.timestamp())))
    P = MemberProfile
    new = a.after.id if a.after else ""
    condition = P.tier_announced.does_not_exist() if announced is None else P.tier_announced == announced
    return [P.tier_announced.set(new)], condition


def history(tenant: str, member_id: str, size: int, after: dict | None) -> Page:
    """A member's tier changes, newest first."""
    pk = keys.member_pk(tenant, member_id)
    start = start_key(after, pk)
    return call(lambda: page(TierChange.query(pk, TierChange.SK.startswith(HISTORY_PREFIX), limit=size + 1,
                                              last_evaluated_key=start, scan_index_forward=False,
                                              consistent_read=True),
                             lambda e: e, ("PK", "SK"), size), what="tier history")
