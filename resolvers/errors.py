"""userErrors for mutation payloads, and the error codes clients can switch on."""
from __future__ import annotations

import functools
import re
from typing import Any, Callable, TypeVar

import strawberry

from domain.errors import ErrorCode as DomainErrorCode
from domain.errors import UserError as DomainUserError
from domain.errors import UserErrors

ErrorCode = strawberry.enum(DomainErrorCode, name="ErrorCode",
                            description="Why a mutation did not do what was asked.")


@strawberry.type(name="UserError", description="A problem with the input that the caller can fix.")
class UserErrorType:
    field: str | None = strawberry.field(description="The input field at fault, when there is one.")
    code: ErrorCode
    message: str


def to_user_errors(exc: DomainUserError | UserErrors) -> list[UserErrorType]:
    errors = exc.errors if isinstance(exc, UserErrors) else [exc]
    return [UserErrorType(field=e.field, code=e.code, message=e.message) for e in errors]


P = TypeVar("P")


def payload_errors(payload: type[P]) -> Callable[[Callable[..., P]], Callable[..., P]]:
    """Turn domain UserError(s) raised by a mutation into `payload(user_errors=[...])`."""

    def wrap(resolver: Callable[..., P]) -> Callable[..., P]:
        @functools.wraps(resolver)
        def run(*args: Any, **kwargs: Any) -> P:
            try:
                return resolver(*args, **kwargs)
            except (DomainUserError, UserErrors) as e:
                return payload(user_errors=to_user_errors(e))  # type: ignore[call-arg]

        return run

    return wrap


# -- what of an error message may be logged -------------------------------------------------------
# graphql-core quotes the caller's input in its messages: `..., found: {'email': 'aiko@example.com'}.`,
# `String cannot represent a non string value: {...}`, `Unexpected String "..."`. A log line keeps what
# the message says about the request's shape (types, fields, variables) and drops the values: log
# lines are kept longer and read by more people than the response the caller already has.
_QUOTED_VALUE = re.compile(r"(\b[Ff]ound:|cannot represent[^:]*:)\s.*", re.S)
_STRING_LITERAL = re.compile(r'"(?:[^"\\]|\\.)*"|"""[\s\S]*?"""')
# What must never be written, wherever a message came from: email addresses and bearer tokens / JWTs.
_EMAIL = re.compile(r"[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}")
_TOKEN = re.compile(r"eyJ[A-Za-z0-9_-]*\.[A-Za-z0-9_-]*\.[A-Za-z0-9_-]*|(?i:bearer)\s+[A-Za-z0-9._~+/=-]{16,}")


def loggable(message: str, *, max_len: int = 300) -> str:
    """An error message as a log line may carry it: without the input values it quotes, emails or tokens."""
    message = _QUOTED_VALUE.sub(r"\1 (value not logged).", message, count=1)
    message = _STRING_LITERAL.sub('"…"', message)
    message = _TOKEN.sub("<token>", _EMAIL.sub("<email>", message))
    message = " ".join(message.split())  # one line, whatever the message held
    return message if len(message) <= max_len else message[:max_len - 1] + "…"


_NAME = re.compile(r"[_A-Za-z][_0-9A-Za-z]{0,99}")


def log_name(operation_name: str | None) -> str:
    """An operation name for a log line: the caller chose it, so only a GraphQL name is written as is
    (anything else could split the line or forge a field)."""
    if operation_name is None:
        return "anonymous"
    return operation_name if _NAME.fullmatch(operation_name) else "(not a GraphQL name)"
