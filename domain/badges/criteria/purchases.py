"""PURCHASES: at least `count` orders."""
from domain.badges.criteria.base import CountOf
from domain.progress import counters


class Purchases(CountOf):
    kind = "PURCHASES"
    description = "At least `count` orders."
    events = frozenset({"points.earned"})
    counter = counters.PURCHASES


CRITERION = Purchases()
