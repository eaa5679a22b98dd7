"""Faults DynamoDB Local cannot produce (throttling, timeouts, conflicting transactions), injected
into the one botocore client pynamodb shares, through botocore's own event hooks.

Every request still goes to DynamoDB Local unless a fault answers it; a fault answers only the
operation it names, and only `times` sends (each of botocore's own retries is a send) after letting
`skip` sends through. Use it as a fixture's context (`with Faults() as f: yield f`), so every hook is removed when
the test ends, whatever happened: the client lives as long as the test process.
"""
from __future__ import annotations

import json
import threading
from dataclasses import dataclass, field
from typing import Any, Callable, Iterator

from botocore.awsrequest import AWSResponse
from botocore.exceptions import ReadTimeoutError
from botocore.httpsession import URLLib3Session

from infra.items import TableItem

DYNAMODB_ERROR = "com.amazonaws.dynamodb.v20120810#"


class _Body:
    """What AWSResponse reads a body from."""

    def __init__(self, data: bytes):
        self.data = data

    def stream(self, **_: Any) -> Iterator[bytes]:
        yield self.data


def error_response(request: Any, code: str, message: str, status: int = 400, **extra: Any) -> AWSResponse:
    body = json.dumps({"__type": DYNAMODB_ERROR + code, "message": message, **extra}).encode()
    return AWSResponse(request.url, status, {"content-type": "application/x-amz-json-1.0",
                                             "x-amzn-requestid": "injected-fault"}, _Body(body))


def items_in(request: Any) -> int:
    """How many items a TransactWriteItems request carries (one cancellation reason each)."""
    return len(json.loads(request.body).get("TransactItems", []))


@dataclass
class Fault:
    operation: str
    answer: Callable[[Any], AWSResponse | None]
    times: int | None = None  # None: every send until removed
    skip: int = 0
    sends: int = 0  # sends of this operation seen while the fault was registered
    injected: int = 0
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def __call__(self, request: Any, **_: Any) -> AWSResponse | None:
        with self._lock:
            self.sends += 1
            if self.sends <= self.skip or (self.times is not None and self.injected >= self.times):
                return None  # let it through to DynamoDB Local
            self.injected += 1
        return self.answer(request)


class Faults:
    def __init__(self) -> None:
        self.client = TableItem._get_connection().connection.client
        self._registered: list[tuple[str, Fault]] = []

    @property
    def botocore_attempts(self) -> int:
        """Sends botocore makes for one call before it gives up (its own retries included)."""
        return int(self.client.meta.config.retries.get("total_max_attempts", 1))

    def _add(self, fault: Fault) -> Fault:
        event = f"before-send.dynamodb.{fault.operation}"
        self.client.meta.events.register_first(event, fault, unique_id=f"fault-{id(fault)}")
        self._registered.append((event, fault))
        return fault

    def throttle(self, operation: str = "TransactWriteItems", *, code: str = "ThrottlingException",
                 times: int | None = None, skip: int = 0) -> Fault:
        """Answer as DynamoDB does when it throttles: 400 with a throttling error code."""
        return self._add(Fault(operation, lambda r: error_response(r, code, "Rate of requests exceeds the allowed "
                                                                           "throughput."), times, skip))

    def cancel(self, reason: str = "TransactionConflict", *, at: dict[int, str | dict] | None = None,
               times: int | None = None, skip: int = 0) -> Fault:
        """A TransactWriteItems cancelled with `reason` on its first item and None on the others; or,
        with `at`, a reason per item index (negative from the end; a dict is the whole reason, e.g.
        with the `Item` DynamoDB returns for a failed condition)."""
        def answer(request: Any) -> AWSResponse:
            n = items_in(request)
            reasons: list[dict] = [{"Code": "None"}] * n
            for index, r in (at or {0: reason}).items():
                reasons[index % n] = r if isinstance(r, dict) else {"Code": r, "Message": f"injected {r}"}
            return error_response(request, "TransactionCanceledException",
                                  f"Transaction cancelled, please refer cancellation reasons for specific reasons "
                                  f"[{', '.join(r['Code'] for r in reasons)}]", CancellationReasons=reasons)
        return self._add(Fault("TransactWriteItems", answer, times, skip))

    def timeout(self, operation: str = "TransactWriteItems", *, after_sending: bool = False,
                times: int | None = None, skip: int = 0) -> Fault:
        """A read timeout. With `after_sending` the request reaches DynamoDB Local first and is
        applied: only the answer is lost, as when a network drops a response."""
        def answer(request: Any) -> AWSResponse:
            if after_sending:
                URLLib3Session().send(request)
            raise ReadTimeoutError(endpoint_url=request.url)
        return self._add(Fault(operation, answer, times, skip))

    def clear(self) -> None:
        for event, fault in self._registered:
            self.client.meta.events.unregister(event, fault, unique_id=f"fault-{id(fault)}")
        self._registered.clear()

    def __enter__(self) -> "Faults":
        return self

    def __exit__(self, *_: Any) -> None:
        self.clear()
