"""A member's tier state in the profile item, and the update actions that keep it.

Qualification lives in the profile, so `me` still reads one Query and a credit still writes one
transaction: `qp:<YYYY-MM>` (qualifying points credited in that local month), `qs:<YYYY-MM>` (spend in
the ladder's currency), `qpAll`/`qsAll` (ever). A credit ADDs to its month without reading it and
REMOVEs the months that fell out of every window (`MONTHS_KEPT`), so what a profile carries stays
bounded: at most 25 months of each, plus a month left over from a member idle for longer than a year
between two credits (removing a year of old names per credit covers everyone who earns yearly).
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

from pynamodb.attributes import NumberAttribute

from domain import calendar
from domain.tiers.ladder import Basis, Ladder
from domain.tiers.status import MONTHS_KEPT, Manual, ManualMode, TierState, credit_due
from infra import keys
from infra.items import MemberProfile
from infra.items.member import DecimalNumber

POINTS_PREFIX = "qp:"
SPEND_PREFIX = "qs:"
SWEEP_MONTHS = 12  # month names removed per credit, below the kept window


@dataclass(frozen=True)
class Qualification:
    """What a points change adds to (or, negative, takes from) a member's qualification."""

    month: str  # the local month it counts in: a reversal takes back from the month the order counted in
    points: int = 0
    spend: Decimal | None = None  # in the ladder's currency; None: the order was in another currency


def _dynamic(name: str) -> NumberAttribute:
    attr = DecimalNumber(attr_name=name)
    attr.attr_name = name
    attr.attr_path = [name]
    return attr


def _iso(v: str | None) -> datetime | None:
    return datetime.fromisoformat(v) if v else None


def state_of(p: MemberProfile) -> TierState:
    manual = None
    if p.tier_manual:
        m = p.tier_manual
        manual = Manual(m["tierId"], ManualMode(m["mode"]), _iso(m.get("until")), m.get("reason", ""))
    return TierState(
        points=dict(getattr(p, "qual_points", {}) or {}), spend=dict(getattr(p, "qual_spend", {}) or {}),
        points_all=int(p.qual_points_all or 0), spend_all=Decimal(p.qual_spend_all or 0),
        held=p.tier_held, held_until=_iso(p.tier_held_until), grace_target=p.tier_grace_target,
        manual=manual, evaluated_through=_iso(p.tier_evaluated_through),
        risk_sent_for=_iso(p.tier_risk_sent_for), reached=p.tier_reached, reached_for=_iso(p.tier_reached_for))


def manual_to_json(m: Manual | None) -> dict[str, Any] | None:
    if m is None:
        return None
    return {"tierId": m.tier_id, "mode": m.mode.value, "until": m.until.isoformat() if m.until else None,
            "reason": m.reason}


def stored_actions(before: TierState, after: TierState) -> list[Any]:
    """SET/REMOVE of the retained tier, staff setting and job marks that differ between two states."""
    P = MemberProfile
    out: list[Any] = []

    def put(attr: Any, old: Any, new: Any) -> None:
        if old == new:
            return
        out.append(attr.set(new) if new is not None else attr.remove())

    put(P.tier_held, before.held, after.held)
    put(P.tier_held_until, _s(before.held_until), _s(after.held_until))
    put(P.tier_grace_target, before.grace_target, after.grace_target)
    put(P.tier_manual, manual_to_json(before.manual), manual_to_json(after.manual))
    put(P.tier_evaluated_through, _s(before.evaluated_through), _s(after.evaluated_through))
    put(P.tier_risk_sent_for, _s(before.risk_sent_for), _s(after.risk_sent_for))
    put(P.tier_reached, before.reached, after.reached)
    put(P.tier_reached_for, _s(before.reached_for), _s(after.reached_for))
    return out


def _s(d: datetime | None) -> str | None:
    return d.isoformat() if d else None


def due_mark(tenant: str, member_id: str, at: datetime) -> tuple[str, str]:
    return keys.due_pk(tenant, "TIER"), f"{at.isoformat()}#{member_id}"


def due_actions(tenant: str, member_id: str, at: datetime | None) -> list[Any]:
    P = MemberProfile
    if at is None:
        return [P.GSI3PK.remove(), P.GSI3SK.remove()]
    pk, sk = due_mark(tenant, member_id, at)
    return [P.GSI3PK.set(pk), P.GSI3SK.set(sk)]


def qualification_actions(q: Qualification, ladder: Ladder | None, tz: str, now: datetime, tenant: str,
                          member_id: str) -> list[Any]:
    """The crediting transaction's part: add to the month, trim months no window needs, and make sure
    the tier job will look at this member when this period ends (a mark already there stays: it is
    never later than what this credit needs, see `domain.tiers.status.credit_due`)."""
    P = MemberProfile
    actions: list[Any] = []
    current = calendar.month_key(now, tz)
    in_range = 0 <= calendar.months_between(q.month, current) < MONTHS_KEPT
    if q.points:
        if in_range:
            actions.append(_dynamic(f"{POINTS_PREFIX}{q.month}").add(q.points))
        actions.append(P.qual_points_all.add(q.points))
    if q.spend:
        if in_range:
            actions.append(_dynamic(f"{SPEND_PREFIX}{q.month}").add(q.spend))
        actions.append(P.qual_spend_all.add(q.spend))
    if not actions:
        return []
    for k in range(MONTHS_KEPT, MONTHS_KEPT + SWEEP_MONTHS):
        old = calendar.add_months(current, -k)
        actions += [_dynamic(f"{POINTS_PREFIX}{old}").remove(), _dynamic(f"{SPEND_PREFIX}{old}").remove()]
    if ladder is not None:
        due = credit_due(ladder, tz, now)
        if due is not None:
            pk, sk = due_mark(tenant, member_id, due)
            actions += [P.GSI3PK.set(P.GSI3PK | pk), P.GSI3SK.set(P.GSI3SK | sk)]
    return actions


def trim_actions(state: TierState, tz: str, now: datetime) -> list[Any]:
    """REMOVE every stored month outside the kept window (the job tidies what credits did not reach)."""
    current = calendar.month_key(now, tz)
    out: list[Any] = []
    for m in state.points:
        if calendar.months_between(m, current) >= MONTHS_KEPT:
            out.append(_dynamic(f"{POINTS_PREFIX}{m}").remove())
    for m in state.spend:
        if calendar.months_between(m, current) >= MONTHS_KEPT:
            out.append(_dynamic(f"{SPEND_PREFIX}{m}").remove())
    return out


def counts_spend(ladder: Ladder | None, currency: str) -> bool:
    return ladder is not None and ladder.basis is Basis.SPEND and ladder.currency == currency
