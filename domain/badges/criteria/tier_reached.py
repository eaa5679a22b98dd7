"""TIER_REACHED: the member reached a tier of at least `rank` (1 is the first tier above none)."""
from decimal import Decimal

from domain.badges.criteria.base import Criterion, Spec
from domain.progress import counters


class TierReached(Criterion):
    kind = "TIER_REACHED"
    description = "A tier of rank `rank` or higher reached."
    events = frozenset({"tier.changed"})
    needs = ("rank",)

    def track(self, spec: Spec) -> str:
        return counters.RANK

    def target(self, spec: Spec) -> Decimal:
        return Decimal(spec.rank or 0)


CRITERION = TierReached()
