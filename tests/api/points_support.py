"""Helpers for points tests: configure a program, record orders, run jobs, read a member's books."""
from __future__ import annotations

import uuid
from datetime import datetime, timezone
from typing import Any

from domain.points import lots as lot_rules
from infra import keys
from infra.ids import new_ulid
from infra.items import MemberProfile, TableItem
from infra.points.history import to_lot
from infra.points.items import LedgerEntry, OrderRecord, PointLot
from infra.points.jobs import PointsJobs
from infra.points.ledger import NEVER
from infra.points.program_store import ProgramStore

ME_POINTS = "{ me { points { available pending lifetime debt expiringSoon { points at } } } }"
ORDER = """mutation O($input: OrderInput!) {
  orderRecord(input: $input) { outcome points memberId userErrors { field code message } } }"""
RETURN = """mutation R($input: OrderReturnInput!) {
  orderReturnRecord(input: $input) { pointsReversed bonusPoints duplicate userErrors { field code message } } }"""
PROGRAM = """mutation P($input: ProgramInput!) {
  programUpdate(input: $input) { program { returnWindowDays expiryMode } userErrors { field code message } } }"""
REWARD = """mutation S($input: RewardInput!) {
  rewardSave(input: $input) { reward { id pointsCost } userErrors { field code message } } }"""
REDEEM = """mutation D($rewardId: ID!, $key: String) {
  rewardRedeem(rewardId: $rewardId, idempotencyKey: $key) {
    redemption { code points status reward { id } } userErrors { field code message } } }"""
ADJUST = """mutation A($memberId: ID!, $points: Int!, $reason: String!) {
  pointsAdjust(memberId: $memberId, points: $points, reason: $reason) {
    member { points { available debt } } userErrors { field code message } } }"""
HISTORY = """query H($first: Int, $after: String, $types: [EntryType!]) { me { pointsHistory(first: $first, after: $after,
  types: $types) { edges { cursor node { type points status reason source orderId rewardId couponCode createdAt } }
  pageInfo { hasNextPage endCursor } } } }"""


def order_input(member_id: str | None, *, order_id: str | None = None, lines: list[dict] | None = None,
                subtotal: str = "10000", total: str = "11000", currency: str = "JPY",
                ordered_at: datetime | None = None, **kw: Any) -> dict:
    return {"orderId": order_id or str(uuid.uuid4().int)[:19], "currency": currency,
            "orderedAt": (ordered_at or datetime.now(timezone.utc)).isoformat(), "memberId": member_id,
            "lines": lines or [{"id": "1", "quantity": 2, "price": "3000", "sku": "TEE", "category": "apparel"},
                               {"id": "2", "quantity": 1, "price": "4000", "sku": "CAP", "category": "apparel"}],
            "subtotal": subtotal, "total": total, **kw}


def jobs(services: Any, tenant: str) -> PointsJobs:
    return PointsJobs(tenant, ProgramStore(tenant, services.programs))


def books(tenant: str, member_id: str) -> dict[str, Any]:
    """The member's stored state, read raw in one partition Query, for invariant checks."""
    items = list(TableItem.query(keys.member_pk(tenant, member_id), consistent_read=True))
    profile = next(i for i in items if isinstance(i, MemberProfile))
    lots = [i for i in items if isinstance(i, PointLot)]
    entries = [i for i in items if isinstance(i, LedgerEntry)]
    orders = [i for i in items if isinstance(i, OrderRecord)]
    consumed = int(profile.lots_consumed)
    walked = lot_rules.what_is_left([to_lot(x) for x in lots], consumed)
    return {"available": int(profile.available), "pending": int(profile.pending), "debt": int(profile.debt),
            "lifetime": int(profile.lifetime), "consumed": consumed, "entries": entries,
            "ledger": sum(int(e.points) for e in entries),
            "lot_points": [int(x.points) for x in lots], "lots": sum(int(x.points) for x in lots) - consumed,
            "lot_items": lots,
            "lots_left": [x.left for x in walked],
            "orders_pending": sum(int(r.pending_points) for r in orders if r.status == "PENDING")}


def assert_books_balance(tenant: str, member_id: str, *, buckets_only: bool = True) -> dict[str, Any]:
    """sum(ledger) == available + pending - debt; lots hold exactly the available points; pending is what
    the pending orders hold; nothing negative; every lot is an expiry bucket (one per expiry, its key
    naming it), unless `buckets_only=False` for a member given lots of the shape written before buckets."""
    b = books(tenant, member_id)
    assert b["ledger"] == b["available"] + b["pending"] - b["debt"], b
    assert b["lots"] == b["available"], b
    assert sum(b["lots_left"]) == b["available"], b  # `lotsConsumed` never runs past the lots
    assert min(b["available"], b["pending"], b["debt"], b["consumed"], *b["lots_left"]) >= 0, b
    assert all(points > 0 for points in b["lot_points"]), b
    assert b["pending"] == b["orders_pending"], b  # pending points are the pending orders' own
    if buckets_only:
        for lot in b["lot_items"]:
            expires = datetime.fromisoformat(lot.expires_on) if lot.expires_on else None
            assert lot.SK == keys.lot_sk(lot_rules.bucket(expires)), (lot.SK, lot.expires_on, b)
            assert (lot.GSI2SK or "").startswith(lot.expires_on or "") and bool(lot.GSI2PK) == bool(expires), lot.SK
    return b


def put_legacy_lots(tenant: str, member_id: str, count: int, points: int, *, expires: datetime | None = None,
                    at: datetime | None = None) -> int:
    """Give an enrolled member `count` lots of the shape written before buckets (`LOT#<expires>#<ulid>`, one
    per credit), as a member from before the change still has them: the profile's available and lifetime
    grow to match and one ADJUSTMENT entry records them, so the books balance
    (`assert_books_balance(..., buckets_only=False)`). BatchWriteItem, then one update and one put.
    Returns the points added."""
    pk = keys.member_pk(tenant, member_id)
    when = at or datetime.now(timezone.utc)
    expires_iso = expires.isoformat() if expires else NEVER
    with PointLot.batch_write() as batch:
        for _ in range(count):
            lot_id = new_ulid(int(when.timestamp() * 1000))
            lot = PointLot(pk, f"{keys.LOT_PREFIX}{expires_iso}#{lot_id}", member_id=member_id, points=points,
                           earned_at=when.isoformat(), expires_on=expires.isoformat() if expires else None)
            if expires:
                lot.GSI2PK, lot.GSI2SK = keys.due_pk(tenant, "EXPIRE"), f"{expires_iso}#{member_id}#{lot_id}"
            batch.save(lot)
    total = count * points
    MemberProfile(pk, keys.PROFILE).update(actions=[MemberProfile.available.add(total),
                                                    MemberProfile.lifetime.add(total)])
    LedgerEntry(pk, f"{keys.LEDGER_PREFIX}{new_ulid(int(when.timestamp() * 1000))}", member_id=member_id,
                entry_type="ADJUSTMENT", points=total, status="POSTED", reason="lots from before buckets",
                created_at=when.isoformat()).save()
    return total
