"""One DynamoDB transaction with named parts, so a cancellation says which condition failed and why.

Only a ConditionalCheckFailed is a cancellation the caller may read ("this part's condition did not
hold"). Every other failure follows infra/dynamo_errors.py: conflicts, throttling and timeouts are
retried and then raised as RetryLater; a ValidationError becomes an input error."""
from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from typing import Any

from pynamodb.exceptions import TransactWriteError
from pynamodb.transactions import TransactWrite

from infra import dynamo_errors
from infra.dynamo_errors import CONDITIONAL_REASON, Kind
from infra.items.base import TableItem


@dataclass
class Failure:
    code: str  # always ConditionalCheckFailed: no other reason reaches a caller as a cancellation
    old_item: dict[str, Any] | None  # the item as it was (raw DynamoDB JSON), when it existed


class TransactionCancelled(Exception):
    """A condition failed. `failed` maps each part whose condition did not hold to its old item;
    `failed_on(label)` is True only for such a part."""

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

    def commit(self, *, budget: float | None = None) -> None:
        """Commit all parts or none. Raises TransactionCancelled when a condition did not hold,
        UserError(INVALID) when DynamoDB refuses the request as sent, and RetryLater when conflicts,
        throttling or timeouts outlast the budget (nothing of this transaction is then applied,
        or, after a timeout, it was applied exactly once: see the token below)."""
        # One ClientRequestToken for the retries of one commit: when a timeout hides whether the
        # first send was applied, the retry is recognised as the same request and not applied twice.
        # After a definite refusal (a conflict, throttling) the next send is new and takes a new token.
        token = [uuid.uuid4().hex]

        def before_retry(e: BaseException) -> None:
            if not dynamo_errors.outcome_unknown(e):
                token[0] = uuid.uuid4().hex

        dynamo_errors.call(lambda: self._commit_once(token[0]), what="TransactWriteItems", budget=budget,
                           before_retry=before_retry)

    def _commit_once(self, token: str) -> None:
        labels: list[str] = []
        connection = TableItem._get_connection().connection
        try:
            with TransactWrite(connection=connection, client_request_token=token) as tw:
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
            if dynamo_errors.classify(e) is not Kind.CONDITIONAL:
                raise  # validation, retryable or ours: dynamo_errors.call decides
            failed = {
                labels[i]: Failure(code=r.code, old_item=r.raw_item)
                for i, r in enumerate(e.cancellation_reasons)
                if r is not None and r.code == CONDITIONAL_REASON and i < len(labels)
            }
            if not failed:
                raise
            raise TransactionCancelled(failed) from e
