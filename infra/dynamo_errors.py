"""What a failed DynamoDB call means, decided in one place.

Every failure is one of four kinds, and each kind has one treatment:

- CONDITIONAL: a condition we wrote did not hold. The stored state answered; the caller reads the
  answer (for a transaction, `TransactionCancelled` names the parts). Only this kind may ever be
  read as "already done".
- VALIDATION: DynamoDB refused the request as sent (a key over 2,048 bytes, an item over 400 KB,
  an empty key). Sending it again can never succeed: it becomes an input error,
  `UserError(INVALID)`, which mutations answer as a userError.
- RETRYABLE: throttled, a conflicting transaction, a timeout or a lost connection. The same request
  may succeed shortly: `call` retries it with jittered exponential backoff within a time budget,
  then raises `RetryLater`, which the API answers as RETRY_LATER (GraphQL) or 503 (webhooks).
- OTHER: anything else is our fault and propagates unchanged (logged and masked at the edge).
"""
from __future__ import annotations

import functools
import logging
import random
import re
import time
from enum import Enum
from typing import Any, Callable, Iterable, TypeVar

from botocore.exceptions import ClientError, HTTPClientError
from botocore.exceptions import ConnectionError as BotoConnectionError
from pynamodb.exceptions import PynamoDBException

from domain.errors import ErrorCode, UserError

log = logging.getLogger("kizuna.dynamodb")

T = TypeVar("T")


class Kind(Enum):
    CONDITIONAL = "conditional"
    VALIDATION = "validation"
    RETRYABLE = "retryable"
    OTHER = "other"


# Per-item reasons of a cancelled TransactWriteItems.
CONDITIONAL_REASON = "ConditionalCheckFailed"
VALIDATION_REASON = "ValidationError"
RETRYABLE_REASONS = frozenset({"TransactionConflict", "ThrottlingError", "ProvisionedThroughputExceeded"})

# Error codes of a whole request.
CONDITIONAL_CODES = frozenset({"ConditionalCheckFailedException"})
VALIDATION_CODES = frozenset({"ValidationException"})
RETRYABLE_CODES = frozenset({
    "ProvisionedThroughputExceededException", "ThrottlingException", "RequestLimitExceeded",
    "TransactionInProgressException",  # the same ClientRequestToken is still being applied
    "TransactionConflictException",  # a plain write met an item inside a transaction
    "InternalServerError", "ServiceUnavailable",
})
# Failures after which the request may or may not have been applied: a retry must be recognisable
# as the same request (TransactWriteItems keeps its ClientRequestToken).
UNKNOWN_OUTCOME_CODES = frozenset({"InternalServerError", "ServiceUnavailable", "TransactionInProgressException"})

# ValidationExceptions that describe the request we built, not the caller's values: our bug, not
# theirs, so they must not be reported as an input error.
_BUILT_WRONG = re.compile(
    r"Invalid (Update|Condition|KeyCondition|Filter|Projection)Expression|multiple operations on one item"
    r"|key element does not match the schema|ExpressionAttribute(Names|Values) (unused|can only be specified)"
    r"|expression attribute (name|value) used in expression is not defined", re.IGNORECASE)

# The API's budget: how long one DynamoDB operation may keep retrying before the caller is told to
# retry later. A Lambda behind API Gateway should answer well within its timeout.
API_BUDGET_SECONDS = 1.5
MAX_ATTEMPTS = 10
BACKOFF_BASE_SECONDS = 0.02
BACKOFF_CAP_SECONDS = 0.5
RETRY_AFTER_SECONDS = 1


class RetryLater(Exception):
    """DynamoDB could not do it now (throttled, conflicting, timed out). Nothing was reported done;
    the same request, sent again after `retry_after` seconds, is safe and may succeed."""

    def __init__(self, message: str, retry_after: int = RETRY_AFTER_SECONDS):
        super().__init__(message)
        self.retry_after = retry_after


def _error_code(exc: BaseException) -> str | None:
    if isinstance(exc, ClientError):
        return exc.response.get("Error", {}).get("Code")
    return None


def _error_message(exc: BaseException) -> str:
    if isinstance(exc, ClientError):
        return str(exc.response.get("Error", {}).get("Message") or "")
    return str(exc)


def cancellation_reasons(exc: BaseException) -> list[tuple[str, str]]:
    """(code, message) of each item of a cancelled transaction, in request order; ("None", "") for
    items that were not at fault. Empty when `exc` is not a cancelled transaction."""
    for e in _chain(exc):
        reasons = getattr(e, "cancellation_reasons", None)
        if reasons:
            return [(r.code, r.message or "") if r is not None else ("None", "") for r in reasons]
        if isinstance(e, ClientError) and e.response.get("CancellationReasons"):
            return [(str(r.get("Code", "None")), str(r.get("Message") or ""))
                    for r in e.response["CancellationReasons"]]
    return []


def _chain(exc: BaseException) -> Iterable[BaseException]:
    """The exception and what it wraps: pynamodb keeps botocore's error in `.cause`."""
    seen = 0
    current: BaseException | None = exc
    while current is not None and seen < 5:
        yield current
        seen += 1
        current = current.cause if isinstance(current, PynamoDBException) else None


def _validation(message: str) -> Kind:
    return Kind.OTHER if _BUILT_WRONG.search(message) else Kind.VALIDATION


def classify(exc: BaseException) -> Kind:
    """The one rule: which of the four kinds a failed DynamoDB call (raw botocore or pynamodb) is."""
    if isinstance(exc, RetryLater):
        return Kind.RETRYABLE
    reasons = cancellation_reasons(exc)
    if reasons:
        at_fault = [(code, message) for code, message in reasons if code != "None"]
        codes = {code for code, _ in at_fault}
        if VALIDATION_REASON in codes:  # the transaction can never succeed as sent
            built_wrong = any(_validation(m) is Kind.OTHER for c, m in at_fault if c == VALIDATION_REASON)
            return Kind.OTHER if built_wrong else Kind.VALIDATION
        if CONDITIONAL_REASON in codes:  # a stored fact, whatever else went wrong
            return Kind.CONDITIONAL
        if codes and codes <= RETRYABLE_REASONS:
            return Kind.RETRYABLE
        return Kind.OTHER
    for e in _chain(exc):
        code = _error_code(e)
        if code in CONDITIONAL_CODES:
            return Kind.CONDITIONAL
        if code in VALIDATION_CODES:
            return _validation(_error_message(e))
        if code in RETRYABLE_CODES:
            return Kind.RETRYABLE
        if isinstance(e, (BotoConnectionError, HTTPClientError)):  # timeouts, refused or dropped connections
            return Kind.RETRYABLE
    return Kind.OTHER


def is_retryable(exc: BaseException) -> bool:
    return classify(exc) is Kind.RETRYABLE


def outcome_unknown(exc: BaseException) -> bool:
    """True when the request may have been applied although it failed (a read timeout, a dropped
    connection, a 5xx): a retry must then be recognisably the same request."""
    for e in _chain(exc):
        if _error_code(e) in UNKNOWN_OUTCOME_CODES or isinstance(e, (BotoConnectionError, HTTPClientError)):
            return True
    return False


def describe(exc: BaseException) -> str:
    reasons = cancellation_reasons(exc)
    if reasons:
        return "TransactionCanceled [" + ", ".join(c for c, _ in reasons) + "]"
    for e in _chain(exc):
        code = _error_code(e)
        if code:
            return f"{code}: {_error_message(e)}"
        if isinstance(e, (BotoConnectionError, HTTPClientError)):
            return f"{type(e).__name__}: {e}"
    return f"{type(exc).__name__}: {exc}"


def invalid_input(exc: BaseException) -> UserError:
    """The input error a ValidationException stands for. DynamoDB's own words stay in the log."""
    log.warning("DynamoDB refused the request as sent: %s", describe(exc))
    return UserError(ErrorCode.INVALID, "A value is too large or not valid to store (ids are at most "
                                        "1,024 characters); correct it and send again.")


def conditional(operation: Callable[[], Any], *, what: str = "DynamoDB call") -> bool:
    """Run a conditioned write under `call`; False when its condition did not hold (the stored state
    answered: written before, or moved on), any other failure raised as `call` raises it."""
    try:
        call(operation, what=what)
        return True
    except Exception as e:
        if classify(e) is not Kind.CONDITIONAL:
            raise
        return False


def backoff(attempt: int) -> float:
    """Full jitter: uniform in [0, min(cap, base * 2**attempt)]."""
    return random.uniform(0, min(BACKOFF_CAP_SECONDS, BACKOFF_BASE_SECONDS * 2 ** attempt))


def call(operation: Callable[[], T], *, what: str = "DynamoDB call", budget: float | None = None,
         before_retry: Callable[[BaseException], None] | None = None) -> T:
    """Run one DynamoDB operation under the rule: retryable failures are retried with jittered
    exponential backoff until `budget` seconds are spent, then raised as RetryLater; validation
    failures become UserError(INVALID); conditional and other failures propagate unchanged.
    `operation` must be safe to repeat (reads, conditioned writes, or a transaction with a fixed
    ClientRequestToken); a lazy query must be consumed inside it."""
    deadline = time.monotonic() + (API_BUDGET_SECONDS if budget is None else budget)
    attempt = 0
    while True:
        try:
            return operation()
        except RetryLater:
            raise  # an inner call spent its budget already; retrying again would multiply it
        except Exception as e:
            kind = classify(e)
            if kind is Kind.VALIDATION:
                raise invalid_input(e) from e
            if kind is not Kind.RETRYABLE:
                raise
            delay = backoff(attempt)
            attempt += 1
            if attempt >= MAX_ATTEMPTS or time.monotonic() + delay > deadline:
                log.warning("%s still failing after %d attempts: %s", what, attempt, describe(e))
                raise RetryLater(f"{what} could not be done now ({describe(e)}); retry later.") from e
            log.info("%s failed (%s); retry %d in %.3f s", what, describe(e), attempt, delay)
            if before_retry is not None:
                before_retry(e)
            time.sleep(delay)


def guarded(fn: Callable[..., T]) -> Callable[..., T]:
    """`call` around a whole repository method (reads, or writes that are safe to repeat)."""

    @functools.wraps(fn)
    def run(*args: Any, **kwargs: Any) -> T:
        return call(lambda: fn(*args, **kwargs), what=fn.__qualname__)

    return run
