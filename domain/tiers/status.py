"""A member's tier, computed from what is stored: qualification per local month, a retained tier, and
a staff setting. Nothing here reads or writes; infra hands in a `TierState` and stores what comes back.

Why a computed tier: the crediting transaction adds to this month's qualification without reading
anything (one DynamoDB call per earn, as the ledger promises), so the tier a member holds is a function
of the stored numbers: the moment a credit that crosses a threshold commits, the member is in the new
tier, with no later step that could lag or be lost. What must survive a drop in qualification (a tier
reached this period and then partly refunded, a tier earned last year) is stored as the *retained*
tier, written by the code paths that can lower qualification (reversals) and by the period-end job.

Periods, in the program's time zone (`domain/calendar.py`):
- ROLLING_12_MONTHS: qualification is the last 12 local months including this one; each month end
  re-evaluates the tier, so a drop can only happen at a month end.
- CALENDAR_YEAR: qualification is this local year; a tier reached in a year is kept through the next.
- LIFETIME: everything ever; no period end, and a tier once reached is kept.
"""
from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from decimal import Decimal
from enum import Enum

from domain import calendar
from domain.tiers.ladder import Basis, DowngradePolicy, Ladder, QualificationPeriod, Tier

MONTHS_KEPT = 25  # qualification months stored: two calendar years and the month in progress
EPSILON = timedelta(microseconds=1)


class ManualMode(Enum):
    FLOOR = "FLOOR"  # at least this tier; qualification may lift the member higher
    OVERRIDE = "OVERRIDE"  # exactly this tier, whatever the qualification


class Source(Enum):
    QUALIFIED = "QUALIFIED"  # this period's qualification supports it
    RETAINED = "RETAINED"  # kept from an earlier evaluation (last period, a refund, a grace period)
    FLOOR = "FLOOR"  # staff floor
    OVERRIDE = "OVERRIDE"  # staff override


@dataclass(frozen=True)
class Manual:
    tier_id: str
    mode: ManualMode
    until: datetime | None = None  # expires on this instant; None: until staff clear it
    reason: str = ""

    def active(self, at: datetime) -> bool:
        return self.until is None or at < self.until


@dataclass(frozen=True)
class TierState:
    points: dict[str, int] = field(default_factory=dict)  # local month -> qualifying points
    spend: dict[str, Decimal] = field(default_factory=dict)  # local month -> qualifying spend
    points_all: int = 0
    spend_all: Decimal = Decimal(0)
    held: str | None = None  # retained tier id
    held_until: datetime | None = None  # None with a held tier: kept for good
    grace_target: str | None = None  # during a grace period: the tier the ended period supported ("" none)
    manual: Manual | None = None
    evaluated_through: datetime | None = None  # the last period end the job applied
    risk_sent_for: datetime | None = None  # the period end a TierAtRisk went out for
    # The highest tier this period's qualification reached, kept when a refund took the qualification
    # back below it (else the qualification itself says it): the period end counts it as reached.
    reached: str | None = None
    reached_for: datetime | None = None  # the period end it counts at


@dataclass(frozen=True)
class Standing:
    tier: Tier | None
    source: Source | None
    retained_until: datetime | None  # the earliest instant the tier can be lost (None: not by time)


@dataclass(frozen=True)
class Progress:
    qualifying: Decimal
    next: Tier | None
    needed: Decimal  # still needed for `next` (0 when there is none)
    percent: Decimal  # 0-100 toward `next`; 100 at the top
    period_ends_at: datetime | None


# -- periods ----------------------------------------------------------------------------------------

def period_end(ladder: Ladder, tz: str, at: datetime) -> datetime | None:
    """When the period `at` falls in ends (the next evaluation); None for lifetime."""
    if ladder.period is QualificationPeriod.LIFETIME:
        return None
    if ladder.period is QualificationPeriod.CALENDAR_YEAR:
        return calendar.year_end(int(calendar.year_key(at, tz)), tz)
    return calendar.month_end(calendar.month_key(at, tz), tz)


def last_period_end(ladder: Ladder, tz: str, at: datetime) -> datetime | None:
    """The most recent period end at or before `at`."""
    if ladder.period is QualificationPeriod.LIFETIME:
        return None
    if ladder.period is QualificationPeriod.CALENDAR_YEAR:
        return calendar.year_start(int(calendar.year_key(at, tz)), tz)
    return calendar.month_start(calendar.month_key(at, tz), tz)


def window(ladder: Ladder, tz: str, at: datetime) -> list[str] | None:
    """The local months whose qualification counts at `at`; None: all of them (lifetime)."""
    if ladder.period is QualificationPeriod.LIFETIME:
        return None
    m = calendar.month_key(at, tz)
    if ladder.period is QualificationPeriod.CALENDAR_YEAR:
        return calendar.months_of_year(int(m[:4]))[: int(m[5:])]
    return [calendar.add_months(m, -k) for k in range(11, -1, -1)]


def qualification(state: TierState, ladder: Ladder, tz: str, at: datetime) -> Decimal:
    months = window(ladder, tz, at)
    if ladder.basis is Basis.SPEND:
        if months is None:
            return Decimal(state.spend_all)
        return sum((Decimal(state.spend.get(m, 0)) for m in months), Decimal(0))
    if months is None:
        return Decimal(state.points_all)
    return Decimal(sum(int(state.points.get(m, 0)) for m in months))


def ended_period_qualification(state: TierState, ladder: Ladder, tz: str, end: datetime) -> Decimal:
    """Qualification of the period that ended at `end` (its last instant is just before)."""
    return qualification(state, ladder, tz, end - EPSILON)


# -- the tier now -------------------------------------------------------------------------------------

def _higher(a: Tier | None, b: Tier | None) -> Tier | None:
    if a is None:
        return b
    if b is None:
        return a
    return a if a.rank >= b.rank else b


def held_tier(state: TierState, ladder: Ladder, at: datetime) -> Tier | None:
    if not state.held or (state.held_until is not None and at >= state.held_until):
        return None
    return ladder.by_id(state.held)


def standing(state: TierState, ladder: Ladder, tz: str, at: datetime) -> Standing:
    manual = state.manual if state.manual and state.manual.active(at) else None
    if manual and manual.mode is ManualMode.OVERRIDE:
        return Standing(ladder.by_id(manual.tier_id), Source.OVERRIDE, manual.until)
    earned = ladder.supported(qualification(state, ladder, tz, at))
    held = held_tier(state, ladder, at)
    floor = ladder.by_id(manual.tier_id) if manual else None
    best = _higher(_higher(earned, held), floor)
    if best is None:
        return Standing(None, None, None)
    if earned is not None and best.rank == earned.rank:
        until = qualified_until(state, ladder, tz, at, earned)
        if held is not None and held.rank == earned.rank and state.held_until is not None and (
                until is not None and state.held_until > until):
            until = state.held_until
        return Standing(best, Source.QUALIFIED, until)
    if held is not None and best.rank == held.rank:
        return Standing(best, Source.RETAINED, state.held_until)
    return Standing(best, Source.FLOOR, manual.until if manual else None)


def qualified_until(state: TierState, ladder: Ladder, tz: str, at: datetime, tier: Tier) -> datetime | None:
    """If nothing more qualified, the period end at which `tier` could first be lost."""
    if ladder.period is QualificationPeriod.LIFETIME:
        return None
    if ladder.period is QualificationPeriod.CALENDAR_YEAR:
        # Reached this year: kept through next year.
        return calendar.year_end(int(calendar.year_key(at, tz)) + 1, tz)
    m = calendar.month_key(at, tz)
    for k in range(0, 13):
        end_month = calendar.add_months(m, k)
        months = [calendar.add_months(end_month, -j) for j in range(12)]
        if _sum(state, ladder, months) < tier.threshold:
            return calendar.month_end(end_month, tz)
    return calendar.month_end(calendar.add_months(m, 12), tz)


def _sum(state: TierState, ladder: Ladder, months: list[str]) -> Decimal:
    if ladder.basis is Basis.SPEND:
        return sum((Decimal(state.spend.get(x, 0)) for x in months), Decimal(0))
    return Decimal(sum(int(state.points.get(x, 0)) for x in months))


def progress(state: TierState, ladder: Ladder, tz: str, at: datetime, current: Standing | None = None) -> Progress:
    """Toward the tier above `current` (the member's standing, computed here unless given)."""
    current = (current or standing(state, ladder, tz, at)).tier
    q = qualification(state, ladder, tz, at)
    nxt = ladder.above(current)
    if nxt is None:
        return Progress(q, None, Decimal(0), Decimal(100), period_end(ladder, tz, at))
    needed = max(nxt.threshold - q, Decimal(0))
    percent = Decimal(100) if nxt.threshold == 0 else min(Decimal(100), (q / nxt.threshold * 100))
    return Progress(q, nxt, needed, percent.quantize(Decimal("0.1")), period_end(ladder, tz, at))


# -- period end ----------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Evaluation:
    """What the tier job does for one member at `at`."""

    state: TierState  # to store
    before: Tier | None
    after: Tier | None
    cause: str | None  # PERIOD_END | GRACE_END | STAFF_EXPIRY when the tier changed
    at_risk: "AtRisk | None"
    next_due: datetime | None  # when to look at this member again; None: no tier business left
    changed: bool  # anything to store


@dataclass(frozen=True)
class AtRisk:
    tier: Tier
    needed: Decimal
    period_ends_at: datetime


def outcome_at_end(state: TierState, ladder: Ladder, tz: str, end: datetime) -> tuple[Tier | None, Tier | None,
                                                                                      TierState]:
    """The tier just before the period end, the one after, and the state to store (retained tier)."""
    before = standing(state, ladder, tz, end - EPSILON).tier
    supported = ladder.supported(ended_period_qualification(state, ladder, tz, end))
    if state.reached and state.reached_for == end:
        supported = _higher(supported, ladder.by_id(state.reached))
    nxt_end = _retention_end(ladder, tz, end)
    grace_target = None
    if before is None or (supported is not None and supported.rank >= before.rank):
        held, until = supported, nxt_end
    elif ladder.policy is DowngradePolicy.RECALCULATE:
        held, until = supported, nxt_end
    elif ladder.policy is DowngradePolicy.DROP_ONE:
        held, until = _higher(ladder.below(before), supported), nxt_end
    else:  # GRACE: keep it a while; at the grace end the ended period's result applies
        held, until = before, end + timedelta(days=ladder.grace_days)
        grace_target = supported.id if supported else ""
    keep = held_tier(state, ladder, end)  # retained beyond this end already (a refund's retention): it stays
    if keep is not None and (held is None or keep.rank >= held.rank):
        held, until, grace_target = keep, state.held_until, None
    new = replace(state, held=held.id if held else None, held_until=until if held else None,
                  grace_target=grace_target, evaluated_through=end, reached=None, reached_for=None)
    after = standing(new, ladder, tz, end).tier
    return before, after, new


def _retention_end(ladder: Ladder, tz: str, end: datetime) -> datetime | None:
    """How long a tier confirmed at the period end `end` is kept: through the next period."""
    return period_end(ladder, tz, end)


def evaluate(state: TierState, ladder: Ladder, tz: str, at: datetime) -> Evaluation:
    """Everything the job owes a member at `at`, idempotent: the same state and time give nothing
    new the second time (the period end is recorded, the grace target cleared, the notice marked)."""
    new = state
    cause = None
    first_before: Tier | None = standing(state, ladder, tz, at).tier
    # A staff setting that expired is cleared (the tier it held goes with it, below).
    if new.manual and not new.manual.active(at):
        before_manual = standing(new, ladder, tz, new.manual.until - EPSILON).tier if new.manual.until else None
        new = replace(new, manual=None)
        if before_manual and before_manual != standing(new, ladder, tz, at).tier:
            cause = "STAFF_EXPIRY"
            first_before = before_manual
    end = last_period_end(ladder, tz, at)
    if end is not None and (new.evaluated_through is None or new.evaluated_through < end) and _has_business(
            new, ladder, tz, end - EPSILON):
        b, a, new = outcome_at_end(new, ladder, tz, end)
        if cause is None:
            first_before = b
        if (a.id if a else None) != (b.id if b else None):
            cause = "PERIOD_END"
    elif end is not None and (new.evaluated_through is None or new.evaluated_through < end):
        new = replace(new, evaluated_through=end)
    # A grace period that ended: the ended period's result applies now.
    if new.grace_target is not None and new.held_until is not None and at >= new.held_until:
        grace_before = standing(new, ladder, tz, new.held_until - EPSILON).tier
        target = ladder.by_id(new.grace_target) if new.grace_target else None
        new = replace(new, held=target.id if target else None,
                      held_until=period_end(ladder, tz, at) if target else None, grace_target=None)
        if cause is None:
            first_before = grace_before
        if grace_before != standing(new, ladder, tz, at).tier:
            cause = cause or "GRACE_END"
    after = standing(new, ladder, tz, at).tier
    if (after.id if after else None) == (first_before.id if first_before else None):
        cause = None
    risk, new = _risk(new, ladder, tz, at)
    nxt = next_due(new, ladder, tz, at)
    return Evaluation(state=new, before=first_before, after=after, cause=cause, at_risk=risk, next_due=nxt,
                      changed=new != state)


def _has_business(state: TierState, ladder: Ladder, tz: str, at: datetime) -> bool:
    return standing(state, ladder, tz, at).tier is not None or qualification(state, ladder, tz, at) > 0


def projected_end_outcome(state: TierState, ladder: Ladder, tz: str, at: datetime) -> tuple[
        datetime | None, Tier | None, Tier | None, Decimal]:
    """If nothing else qualified before the coming period end: (that end, tier before it, tier after,
    qualification counted there). Staff preview and the at-risk notice both read this."""
    end = period_end(ladder, tz, at)
    if end is None:
        cur = standing(state, ladder, tz, at).tier
        return None, cur, cur, qualification(state, ladder, tz, at)
    settled = replace(state, evaluated_through=last_period_end(ladder, tz, at))
    b, a, _ = outcome_at_end(settled, ladder, tz, end)
    return end, b, a, ended_period_qualification(state, ladder, tz, end)


def _risk(state: TierState, ladder: Ladder, tz: str, at: datetime) -> tuple[AtRisk | None, TierState]:
    end = period_end(ladder, tz, at)
    if end is None or ladder.risk_days <= 0 or at < end - timedelta(days=ladder.risk_days):
        return None, state
    if state.risk_sent_for is not None and state.risk_sent_for >= end:
        return None, state
    _, before, after, q = projected_end_outcome(state, ladder, tz, at)
    if before is None or (after is not None and after.rank >= before.rank):
        return None, state
    return AtRisk(before, max(before.threshold - q, Decimal(0)), end), replace(state, risk_sent_for=end)


def next_due(state: TierState, ladder: Ladder, tz: str, at: datetime) -> datetime | None:
    candidates: list[datetime] = []
    end = period_end(ladder, tz, at)
    if end is not None and _has_business(state, ladder, tz, at):
        notice = end - timedelta(days=ladder.risk_days)
        if ladder.risk_days > 0 and at < notice and (state.risk_sent_for is None or state.risk_sent_for < end):
            candidates.append(notice)
        candidates.append(end)
    if state.held and state.held_until is not None and state.held_until > at:
        candidates.append(state.held_until)
    if state.manual and state.manual.until is not None and state.manual.until > at:
        candidates.append(state.manual.until)
    return min(candidates) if candidates else None


def credit_due(ladder: Ladder, tz: str, at: datetime) -> datetime | None:
    """The due mark a qualifying credit sets when the member has none: the first instant the job owes
    them something for this period (its at-risk notice, else its end)."""
    end = period_end(ladder, tz, at)
    if end is None:
        return None
    notice = end - timedelta(days=ladder.risk_days)
    return notice if ladder.risk_days > 0 and at < notice else end


def retain_before_drop(before: TierState, after: TierState, ladder: Ladder, tz: str,
                       at: datetime) -> TierState | None:
    """A reversal never lowers the tier mid-period, nor what the period reached: when `after`
    (qualification taken back) would stand lower than `before`, the tier is retained until the period's
    end (or through the next, where reaching it earned that); when it only supports less than `before`
    did, what `before` reached is kept for the period end to count. None: nothing to store."""
    reached_was = ladder.supported(qualification(before, ladder, tz, at))
    reached_now = ladder.supported(qualification(after, ladder, tz, at))
    end = period_end(ladder, tz, at)
    if reached_was is not None and end is not None and (reached_now is None or reached_now.rank < reached_was.rank):
        kept = ladder.by_id(before.reached) if before.reached and before.reached_for == end else None
        if kept is None or kept.rank < reached_was.rank:
            after = replace(after, reached=reached_was.id, reached_for=end)
    was = standing(before, ladder, tz, at).tier
    now = standing(after, ladder, tz, at).tier
    if was is None or (now is not None and now.rank >= was.rank):
        return after if after.reached != before.reached or after.reached_for != before.reached_for else None
    if ladder.period is QualificationPeriod.LIFETIME:
        until = None
    elif ladder.period is QualificationPeriod.CALENDAR_YEAR:
        # Reached this year, it is kept through next year, as if the refund had not happened.
        reached_now = ladder.supported(qualification(before, ladder, tz, at))
        until = (qualified_until(before, ladder, tz, at, was) if reached_now and reached_now.rank >= was.rank
                 else standing(before, ladder, tz, at).retained_until)
    else:
        until = standing(before, ladder, tz, at).retained_until
    return replace(after, held=was.id, held_until=until)


@dataclass(frozen=True)
class Preview:
    """What the coming period end does to a member if nothing more qualifies, said for staff."""

    period_ends_at: datetime | None
    qualifying: Decimal
    tier_now: Tier | None
    tier_after: Tier | None
    policy: str
    explanation: str


def preview(state: TierState, ladder: Ladder, tz: str, at: datetime) -> Preview:
    end, before, after, q = projected_end_outcome(state, ladder, tz, at)
    if end is None:
        text = "Lifetime qualification: no period end, the tier is kept."
    elif (before.id if before else None) == (after.id if after else None):
        text = "The tier is kept at the period end."
    elif after is None or (before is not None and after.rank < before.rank):
        text = (f"Unless {max((before.threshold if before else Decimal(0)) - q, Decimal(0))} more qualifies, "
                f"the {ladder.policy.value} policy moves the member to "
                f"{after.name if after else 'no tier'} at the period end.")
    else:
        text = f"The member moves up to {after.name} at the period end."
    return Preview(end, q, before, after, ladder.policy.value, text)
