"""What a criterion kind is: the events it listens to and how far a member's counters are from it.

A criterion kind is one file in this folder defining a `Criterion` (usually a `CountOf` a counter track)
and one registration line in `__init__.py`. Its parameters come in a `Spec` (kind plus the parameters
the kind names in `needs`); `check` finds every problem with them at once.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

from domain import bounds
from domain.errors import ErrorCode, UserError
from domain.progress.counters import Counters

PARAMS = ("count", "amount", "currency", "action", "rank")


@dataclass(frozen=True)
class Spec:
    """A criterion as defined: its kind and the parameters that kind takes (the others are None)."""

    kind: str
    count: int | None = None
    amount: Decimal | None = None
    currency: str | None = None
    action: str | None = None
    rank: int | None = None

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"kind": self.kind}
        for name in PARAMS:
            value = getattr(self, name)
            if value is not None:
                out[name] = str(value) if isinstance(value, Decimal) else value
        return out

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> "Spec":
        return cls(kind=d["kind"], count=d.get("count"), amount=Decimal(d["amount"]) if d.get("amount") else None,
                   currency=d.get("currency"), action=d.get("action"), rank=d.get("rank"))


class Criterion:
    kind: str = ""
    description: str = ""
    events: frozenset[str] = frozenset()  # the event types that can move it: only these evaluate it
    needs: tuple[str, ...] = ()  # parameters of Spec it takes

    def track(self, spec: Spec) -> str:  # pragma: no cover - every kind defines it
        raise NotImplementedError

    def target(self, spec: Spec) -> Decimal:
        return Decimal(1)

    def progress(self, counters: Counters, spec: Spec) -> tuple[Decimal, Decimal]:
        """(current, target): current is capped at target, so a storefront can draw a bar."""
        target = self.target(spec)
        return min(counters.value(self.track(spec)), target), target

    def met(self, counters: Counters, spec: Spec) -> bool:
        current, target = self.progress(counters, spec)
        return current >= target

    def reached_at(self, counters: Counters, spec: Spec) -> datetime | None:
        """When the member met it, by the counters' dating rule (domain/progress/counters.py)."""
        return counters.track(self.track(spec)).reached_at(self.target(spec))

    def threshold(self, spec: Spec) -> tuple[str, Decimal]:
        """(track, value) whose crossing the counters should date exactly."""
        return self.track(spec), self.target(spec)

    def check(self, spec: Spec, path: str = "criterion") -> list[UserError]:
        problems = []
        for name in PARAMS:
            value = getattr(spec, name)
            if name in self.needs and value is None:
                problems.append(UserError(ErrorCode.REQUIRED, f"{self.kind} needs `{name}`.", f"{path}.{name}"))
            elif name not in self.needs and value is not None:
                problems.append(UserError(ErrorCode.INVALID, f"{self.kind} takes no `{name}`.", f"{path}.{name}"))
        if "count" in self.needs and spec.count is not None and not 1 <= spec.count <= 1_000_000:
            problems.append(UserError(ErrorCode.OUT_OF_RANGE, "`count` is 1 to 1,000,000.", f"{path}.count"))
        if "rank" in self.needs and spec.rank is not None and not 1 <= spec.rank <= 100:
            problems.append(UserError(ErrorCode.OUT_OF_RANGE, "`rank` is 1 to 100.", f"{path}.rank"))
        if "amount" in self.needs and spec.amount is not None and spec.amount <= 0:
            problems.append(UserError(ErrorCode.OUT_OF_RANGE, "`amount` must be positive.", f"{path}.amount"))
        if "action" in self.needs and spec.action is not None:
            p = bounds.problem(bounds.ACTION.check(spec.action), f"{path}.action")
            if p:
                problems.append(p)
        return problems


class CountOf(Criterion):
    """At least `count` of one counter track."""

    needs = ("count",)
    counter: str = ""

    def track(self, spec: Spec) -> str:
        return self.counter

    def target(self, spec: Spec) -> Decimal:
        return Decimal(spec.count or 0)
