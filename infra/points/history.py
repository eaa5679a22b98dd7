"""Reading points: the member's history (newest first) and the dashboard summary with expiring soon."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from domain.points import lots as lot_rules
from domain.points.balance import EntryType
from domain.points.program import Program
from infra import keys
from infra.dynamo_errors import call
from infra.items import MemberProfile, TableItem
from infra.pages import Page, page, start_key
from infra.points.items import LedgerEntry, PointLot
from infra.points.ledger import last_activity


def to_lot(item: PointLot) -> lot_rules.Lot:
    """A stored lot (a bucket, or one written per credit before buckets) as the lot rules see it."""
    return lot_rules.Lot(item.SK, int(item.points), datetime.fromisoformat(item.earned_at) if item.earned_at else None,
                         datetime.fromisoformat(item.expires_on) if item.expires_on else None)


@dataclass(frozen=True)
class PointsView:
    available: int
    pending: int
    lifetime: int
    debt: int
    expiring_soon: lot_rules.ExpiringSoon | None


def points_view(card: list[TableItem], program: Program, now: datetime) -> PointsView | None:
    """From the member's dashboard items (one Query): balances and the next expiry within the horizon."""
    profile = next((i for i in card if isinstance(i, MemberProfile)), None)
    if profile is None:
        return None
    lots = [to_lot(x) for x in card if isinstance(x, PointLot)]
    idle_at = lot_rules.inactivity_expiry(last_activity(profile), program)
    soon = lot_rules.expiring_soon(lots, int(profile.lots_consumed), now, program.expiring_soon_days, idle_at)
    return PointsView(int(profile.available), int(profile.pending), int(profile.lifetime), int(profile.debt), soon)


def history(tenant: str, member_id: str, first: int, after: dict | None,
            types: list[EntryType] | None = None) -> Page:
    pk = keys.member_pk(tenant, member_id)
    condition = None
    if types:
        condition = LedgerEntry.entry_type.is_in(*[t.value for t in types])
    start = start_key(after, pk)
    return call(lambda: page(LedgerEntry.query(pk, LedgerEntry.SK.startswith(keys.LEDGER_PREFIX),
                                               filter_condition=condition, limit=first + 1, last_evaluated_key=start,
                                               scan_index_forward=False, consistent_read=True),
                             lambda e: e, ("PK", "SK"), first), what="points history")


def all_entries(tenant: str, member_id: str) -> list[LedgerEntry]:
    return call(lambda: list(LedgerEntry.query(keys.member_pk(tenant, member_id),
                                               LedgerEntry.SK.startswith(keys.LEDGER_PREFIX), consistent_read=True)),
                what="ledger entries")
