"""FIRST_PURCHASE: the member's first order."""
from domain.badges.criteria.base import Criterion, Spec
from domain.progress import counters


class FirstPurchase(Criterion):
    kind = "FIRST_PURCHASE"
    description = "The first order."
    events = frozenset({"points.earned"})

    def track(self, spec: Spec) -> str:
        return counters.PURCHASES


CRITERION = FirstPurchase()
