"""userErrors for mutation payloads, and the error codes clients can switch on."""
from __future__ import annotations

import functools
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
