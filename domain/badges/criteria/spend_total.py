"""SPEND_TOTAL: at least `amount` spent in `currency` (goods paid, less refunds)."""
from decimal import Decimal

from domain import bounds
from domain.badges.criteria.base import Criterion, Spec
from domain.errors import UserError
from domain.progress import counters


class SpendTotal(Criterion):
    kind = "SPEND_TOTAL"
    description = "At least `amount` spent in `currency`, refunds taken off."
    events = frozenset({"points.earned", "points.reversed"})
    needs = ("amount", "currency")

    def track(self, spec: Spec) -> str:
        return counters.spend_track(spec.currency or "")

    def target(self, spec: Spec) -> Decimal:
        return spec.amount or Decimal(0)

    def check(self, spec: Spec, path: str = "criterion") -> list[UserError]:
        problems = super().check(spec, path)
        if spec.currency is not None:
            p = bounds.problem(bounds.CURRENCY.check(spec.currency), f"{path}.currency")
            if p:
                problems.append(p)
        return problems


CRITERION = SpendTotal()
