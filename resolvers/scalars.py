"""Bounded inputs: every id, code, email, name, date and decimal a caller sends is checked once, here.

Two parts, one rule. Strings and ids keep GraphQL's `String` and `ID` (clients declare their
variables with them) and carry their bound as metadata: `bounded(...)` on an input field,
`Annotated[str, bounded_arg(...)]` on an argument; an `ID` without one gets the id bound, a
`String` without one the free-text bound, so nothing that arrives is unbounded. `DateTime`, `Date`
and `Decimal` are parsed by our scalars, which never fail coercion over content: a value outside
its bound parses to an `Invalid` holding the reason.

`BoundedInputs` walks a field's arguments along their GraphQL types before the resolver runs,
checks and normalises every string, and answers every problem at once, in the caller's terms, with
its field path: as `userErrors` when the field returns a payload that has them, else as one
BAD_USER_INPUT error. A resolver only ever sees checked values, and a new field is covered by
declaring its inputs. Only a value of the wrong JSON type (a number where a string belongs) stays
a GraphQL coercion error.
"""
from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Annotated, Any, Callable

import strawberry
from graphql import GraphQLError, GraphQLID, GraphQLInputObjectType, GraphQLList, GraphQLNonNull, GraphQLString
from strawberry.extensions import SchemaExtension
from strawberry.types.scalar import ScalarDefinition

from domain import bounds
from domain.errors import UserError, UserErrors
from resolvers.errors import to_user_errors

BOUND = "kizuna.bound"  # metadata key of an argument's or input field's bound
BACKREF = "strawberry-definition"  # where strawberry keeps its own definition on graphql-core types


class Invalid:
    """What a bounded scalar parses a value outside its bound to; never reaches a resolver."""

    __slots__ = ("error",)

    def __init__(self, error: UserError):
        self.error = error

    def __repr__(self) -> str:
        return f"Invalid({self.error!r})"


def _described(bound: bounds.Bound, description: str | None) -> str:
    return f"{description} {bound.description}" if description else bound.description


def bounded(bound: bounds.Bound, *, description: str | None = None, metadata: dict[str, Any] | None = None,
            **field: Any) -> Any:
    """An input field whose string value must lie within `bound` (and is normalised by it)."""
    return strawberry.field(description=_described(bound, description), metadata={**(metadata or {}), BOUND: bound},
                            **field)


def bounded_arg(bound: bounds.Bound, *, description: str | None = None) -> Any:
    """For `Annotated[str, bounded_arg(...)]` on a resolver argument."""
    return strawberry.argument(description=_described(bound, description), metadata={BOUND: bound})


def _lenient(bound: bounds.Bound) -> Callable[[Any], Any]:
    def parse(value: Any) -> Any:
        # JSON numbers are taken for decimals and checked by their text; a bool is never a number here.
        accepts = (str, int, float) if bound is bounds.DECIMAL else (str,)
        if isinstance(value, bool) or not isinstance(value, accepts):
            # A GraphQLError is the caller's coercion error on both paths (variables and literals);
            # any other exception would reach the caller as an unexpected one.
            raise GraphQLError(f"{bound.name} values are strings in the form the field describes.")
        checked = bound.check(str(value))
        return Invalid(checked) if isinstance(checked, UserError) else checked
    return parse


def plain_decimal(value: Any) -> str:
    """A decimal as plain digits ("100", never "1E+2"), whatever number type a resolver returned."""
    d = value if isinstance(value, Decimal) else Decimal(str(value))
    return format(d, "f")


def _scalar(bound: bounds.Bound, serialize: Callable[[Any], Any]) -> ScalarDefinition:
    return strawberry.scalar(name=bound.name, description=bound.description, serialize=serialize,
                             parse_value=_lenient(bound))


SCALAR_MAP: dict[object, ScalarDefinition] = {
    Decimal: _scalar(bounds.DECIMAL, lambda d: plain_decimal(d)),
    datetime: _scalar(bounds.DATETIME, lambda d: d.isoformat()),
    date: _scalar(bounds.DATE, lambda d: d.isoformat()),
}
DEFAULT_BOUNDS = {GraphQLID: bounds.IDENTIFIER, GraphQLString: bounds.TEXT}


def bound_of(definition: Any) -> bounds.Bound | None:
    """The bound declared on a graphql-core argument or input field, if any."""
    own = (definition.extensions or {}).get(BACKREF)
    return (getattr(own, "metadata", None) or {}).get(BOUND)


def _checked(value: Any, type_: Any, bound: bounds.Bound | None, path: list[str], found: list[UserError]) -> Any:
    """Walk a coerced value alongside its GraphQL input type; returns it with strings normalised."""
    while isinstance(type_, GraphQLNonNull):
        type_ = type_.of_type
    if value is None:
        return None
    if isinstance(value, Invalid):
        found.append(UserError(value.error.code, value.error.message, ".".join(path)))
        return value
    if isinstance(type_, GraphQLList):
        return [_checked(v, type_.of_type, bound, [*path, str(i)], found) for i, v in enumerate(value)]
    if isinstance(type_, GraphQLInputObjectType):
        out = {}
        for name, inner in value.items():
            field = type_.fields[name]
            out[name] = _checked(inner, field.type, bound_of(field), [*path, name], found)
        return out
    rule = bound or DEFAULT_BOUNDS.get(type_)
    if rule is None or not isinstance(value, str):
        return value
    checked = rule.check(value)
    if isinstance(checked, UserError):
        found.append(UserError(checked.code, checked.message, ".".join(path)))
        return value
    return checked


def check_arguments(arguments: dict[str, Any], definitions: dict[str, Any]) -> tuple[dict[str, Any], list[UserError]]:
    """The arguments with every string checked and normalised, and every problem found. Paths leave
    out a top-level `input` argument, as the domain's own errors do (`lines.0.price`)."""
    found: list[UserError] = []
    out = {}
    for name, value in arguments.items():
        definition = definitions[name]
        out[name] = _checked(value, definition.type, bound_of(definition), [] if name == "input" else [name], found)
    return out, found


def _payload_class(return_type: Any) -> type | None:
    while isinstance(return_type, GraphQLNonNull):
        return_type = return_type.of_type
    origin = getattr((getattr(return_type, "extensions", None) or {}).get(BACKREF), "origin", None)
    return origin if "user_errors" in getattr(origin, "__dataclass_fields__", {}) else None


class BoundedInputs(SchemaExtension):
    """Checks every field's arguments before its resolver runs (see the module docstring)."""

    def resolve(self, _next: Callable[..., Any], root: Any, info: Any, *args: Any, **kwargs: Any) -> Any:
        if not kwargs:
            return _next(root, info, *args, **kwargs)
        field = info.parent_type.fields.get(info.field_name)
        if field is None:  # introspection's meta-fields (__type) belong to no type's own fields
            return _next(root, info, *args, **kwargs)
        checked, found = check_arguments(kwargs, field.args)
        if not found:
            return _next(root, info, *args, **checked)
        payload = _payload_class(info.return_type)
        if payload is not None:
            return payload(user_errors=to_user_errors(UserErrors(found)))
        first = found[0]
        raise GraphQLError("; ".join(f"{e.field}: {e.message}" for e in found),
                           extensions={"code": "BAD_USER_INPUT", "field": first.field, "reason": first.code.value})


# Arguments, as `code: CodeArg`: the annotation carries the bound.
CodeArg = Annotated[str, bounded_arg(bounds.CODE)]
ActionArg = Annotated[str, bounded_arg(bounds.ACTION)]
TextArg = Annotated[str, bounded_arg(bounds.TEXT)]
KeyArg = Annotated[str, bounded_arg(bounds.IDENTIFIER)]  # a string that becomes part of a key
# Optional arguments need the bound outside the Optional, where strawberry looks for it.
OptionalKeyArg = Annotated[str | None, bounded_arg(bounds.IDENTIFIER)]
OptionalTextArg = Annotated[str | None, bounded_arg(bounds.TEXT)]
# A member or reward by either of its ids: the global `id`, or its own (resolvers.nodes.key_for).
RefArg = Annotated[strawberry.ID, bounded_arg(bounds.REFERENCE)]
