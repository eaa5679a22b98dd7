"""PURCHASE_STREAK_MONTHS: an order in each of `count` consecutive local months (the best streak counts)."""
from domain.badges.criteria.base import CountOf
from domain.progress import counters


class PurchaseStreakMonths(CountOf):
    kind = "PURCHASE_STREAK_MONTHS"
    description = "An order in each of `count` consecutive months (the program's time zone)."
    events = frozenset({"points.earned"})
    counter = counters.PURCHASE_STREAK


CRITERION = PurchaseStreakMonths()
