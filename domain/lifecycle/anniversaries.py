"""Membership anniversaries and milestones: which one a member has reached, each rewarded once.

An anniversary is counted on the brand's wall clock from the local day the member joined. A member
who joined on 29 February has their anniversary on 28 February in common years: the day before the
month turns, never a day they could not have reached yet. Each anniversary and milestone has a key
(`anniversary:3`, `orders:10`) that the job marks once, so a job run twice, or a member's data read
twice, rewards nothing twice.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date

ORDER_MILESTONES = (1, 10, 25, 50, 100)


def anniversary_day(joined: date, year: int) -> date:
    """The day in `year` on which a member who joined on `joined` has an anniversary."""
    try:
        return joined.replace(year=year)
    except ValueError:  # 29 February in a common year
        return date(year, 2, 28)


def years_completed(joined: date, today: date) -> int:
    """Whole years of membership on `today` (0 before the first anniversary)."""
    years = today.year - joined.year
    if years > 0 and today < anniversary_day(joined, today.year):
        years -= 1
    return max(0, years)


@dataclass(frozen=True)
class Milestone:
    key: str  # the once-mark: "anniversary:1", "orders:10"
    kind: str  # "ANNIVERSARY" or "ORDERS"
    count: int


def anniversary_due(joined: date, today: date) -> Milestone | None:
    """The anniversary a member reaches on `today` exactly, if any."""
    years = years_completed(joined, today)
    if years >= 1 and anniversary_day(joined, joined.year + years) == today:
        return Milestone(f"anniversary:{years}", "ANNIVERSARY", years)
    return None


def anniversaries_reached(joined: date, today: date) -> list[Milestone]:
    """Every anniversary reached by `today`: a job that did not run for a while catches up on the
    ones it missed (each still marked once), instead of skipping a year."""
    return [Milestone(f"anniversary:{n}", "ANNIVERSARY", n) for n in range(1, years_completed(joined, today) + 1)]


def order_milestones_crossed(before: int, after: int) -> list[Milestone]:
    """The order milestones passed when a member's order count goes from `before` to `after`."""
    return [Milestone(f"orders:{n}", "ORDERS", n) for n in ORDER_MILESTONES if before < n <= after]
