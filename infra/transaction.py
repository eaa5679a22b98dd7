"""One DynamoDB transaction with named parts, so a cancellation says which condition failed and why."""
from __future__ import annotations

import random
import time
from dataclasses import dataclass, field
from typing import Any

from pynamodb.exceptions import TransactWriteError
from pynamodb.transactions import TransactWrite

from infra.items.base import TableItem

CONFLICT_ATTEMPTS = 12


@dataclass
class Failure:
    code: str  # ConditionalCheckFailed, TransactionConflict, ...
    old_item: dict[str, Any] | None  # the item as it was (raw DynamoDB JSON), when it existed


class TransactionCancelled(Exception):
    """A condition failed. `failed` maps each failing part's label to its reason."""

    def __init__(self, failed: dict[str, Failure]):
        super().__init__(", ".join(f"{k}: {v.code}" for k, v in failed.items()))
        self.failed = failed

    def failed_on(self, label: str) -> bool:
        return label in self.failed

    def old(self, label: str) -> dict[str, Any] | None:
        f = self.failed.get(label)
        return f.old_item if f else None


@dataclass
class Transaction:
    """Collects puts, updates, deletes and checks, then commits them all or none."""

    _parts: dict[str, list[tuple[str, tuple, dict]]] = field(default_factory=lambda: {
        "check": [], "delete": [], "put": [], "update": []})

    def check(self, label: str, model_cls: type[TableItem], pk: str, sk: str, condition: Any) -> None:
        self._parts["check"].append((label, (model_cls, pk, sk), {"condition": condition}))

    def put(self, label: str, item: TableItem, condition: Any = None) -> None:
        self._parts["put"].append((label, (item,), {"condition": condition}))

    def update(self, label: str, item: TableItem, actions: list, condition: Any = None) -> None:
        self._parts["update"].append((label, (item, actions), {"condition": condition}))

    def delete(self, label: str, item: TableItem, condition: Any = None) -> None:
        self._parts["delete"].append((label, (item,), {"condition": condition}))

    def __len__(self) -> int:
        return sum(len(v) for v in self._parts.values())

    def commit(self, *, attempts: int = CONFLICT_ATTEMPTS) -> None:
        """Commit; retry with jittered backoff while the only reason is a conflicting transaction."""
        for attempt in range(attempts):
            try:
                self._commit_once()
                return
            except TransactionCancelled as cancelled:
                codes = {f.code for f in cancelled.failed.values()}
                if codes <= {"TransactionConflict"} and attempt + 1 < attempts:
                    time.sleep(random.uniform(0, 0.005 * (2 ** min(attempt, 6))))
                    continue
                raise

    def _commit_once(self) -> None:
        labels: list[str] = []
        connection = TableItem._get_connection().connection
        try:
            with TransactWrite(connection=connection) as tw:
                # pynamodb sends checks, deletes, puts, updates in that order: labels follow it.
                for label, (model_cls, pk, sk), kw in self._parts["check"]:
                    tw.condition_check(model_cls, pk, sk, condition=kw["condition"])
                    labels.append(label)
                for label, (item,), kw in self._parts["delete"]:
                    tw.delete(item, condition=kw["condition"])
                    labels.append(label)
                for label, (item,), kw in self._parts["put"]:
                    tw.save(item, condition=kw["condition"], return_values="ALL_OLD")
                    labels.append(label)
                for label, (item, actions), kw in self._parts["update"]:
                    tw.update(item, actions, condition=kw["condition"], return_values="ALL_OLD")
                    labels.append(label)
        except TransactWriteError as e:
            reasons = e.cancellation_reasons
            if not reasons:
                raise
            failed = {
                labels[i]: Failure(code=r.code, old_item=r.raw_item)
                for i, r in enumerate(reasons) if r is not None and r.code != "None"
            }
            if not failed:
                raise
            raise TransactionCancelled(failed) from e
