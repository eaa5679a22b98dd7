"""Absent is not null: the one way an update input changes what is stored.

In an update input every field defaults to `strawberry.UNSET`. A field the caller leaves out keeps
its value; an explicit `null` clears it where the field may be cleared (`updatable(clearable=True)`,
and its description says so) and is an error where it may not; a value sets it. Fields are declared
with `updatable(...)`, which writes the rule into the field's description, and applied with
`apply(current, input, ...)`, which reports every problem at once with the field's GraphQL name.
"""
from __future__ import annotations

from dataclasses import replace
from typing import Any, Callable, Collection, Mapping, TypeVar

import strawberry
from strawberry.utils.str_converters import to_camel_case

from domain import bounds
from domain.errors import ErrorCode, UserError, UserErrors
from resolvers.scalars import bounded

CLEARABLE = "kizuna.clearable"  # metadata key: may an explicit null clear this field
CLEARS = "Send null to clear it; leave it out to keep it."
KEEPS = "Cannot be cleared (null is refused); leave it out to keep it."

T = TypeVar("T")


def updatable(*, clearable: bool, description: str | None = None, bound: bounds.Bound | None = None,
              **field: Any) -> Any:
    """An update input field: absent (UNSET) by default; `clearable` says what an explicit null does."""
    note = CLEARS if clearable else KEEPS
    text = f"{description} {note}" if description else note
    if bound is not None:
        return bounded(bound, description=text, metadata={CLEARABLE: clearable}, default=strawberry.UNSET, **field)
    return strawberry.field(description=text, metadata={CLEARABLE: clearable}, default=strawberry.UNSET, **field)


def given(value: Any) -> bool:
    """Whether the caller sent this field (a value or null)."""
    return value is not strawberry.UNSET


def graphql_name(python_name: str) -> str:
    return to_camel_case(python_name)


def changes(input: Any, *, convert: Mapping[str, Callable[[Any], Any]] | None = None,
            target: Mapping[str, str] | None = None, cleared: Mapping[str, Any] | None = None,
            aliases: Mapping[str, str] | None = None, skip: Collection[str] = (),
            path: str = "") -> tuple[dict[str, Any], list[UserError]]:
    """What the input asks to change, as {attribute of the target: new value}, and every problem.

    For each field of the input (python names): UNSET is left out; null becomes `cleared[name]`
    (default None) if the field is clearable, else a problem; a value goes through `convert[name]`.
    `target` renames a field to the attribute it changes; `aliases` maps a deprecated field to the
    field it stands for (sending both is a problem); `skip` names fields that are not changes (an id)."""
    convert, target, cleared, aliases = convert or {}, target or {}, cleared or {}, aliases or {}
    fields = {f.python_name: f for f in input.__strawberry_definition__.fields}
    out: dict[str, Any] = {}
    problems: list[UserError] = []
    sent: dict[str, Any] = {}
    for name in fields:
        if name in skip or not given(getattr(input, name)):
            continue
        canonical = aliases.get(name, name)
        if canonical in sent:
            problems.append(UserError(ErrorCode.INVALID, f"Send `{graphql_name(canonical)}` or its old name "
                                                         f"`{graphql_name(name)}`, not both.", path + graphql_name(name)))
            continue
        sent[canonical] = getattr(input, name)
        clearable = bool((fields[canonical].metadata or {}).get(CLEARABLE))  # an old name clears as its new one
        field_name = path + graphql_name(name)
        value = sent[canonical]
        if value is None:
            if not clearable:
                problems.append(UserError(ErrorCode.REQUIRED, f"`{graphql_name(name)}` cannot be cleared; "
                                                              "leave it out to keep it.", field_name))
                continue
            out[target.get(canonical, canonical)] = cleared.get(canonical)
        else:
            out[target.get(canonical, canonical)] = convert[canonical](value) if canonical in convert else value
    return out, problems


def apply(current: T, input: Any, *, extra: Collection[UserError | None] = (),
          validate: Callable[[T], Any] | None = None, **kw: Any) -> T:
    """`current` (a dataclass) with the input's changes (see `changes`). Every problem is raised at
    once: the input's, `extra` ones the caller found, and what `validate` (the domain's check of the
    result) finds about fields that have no problem yet."""
    found, problems = changes(input, **kw)
    problems += [p for p in extra if p is not None]
    result = replace(current, **found)  # type: ignore[type-var]
    if validate is not None:
        try:
            validate(result)
        except (UserError, UserErrors) as e:
            named = {p.field for p in problems}
            problems += [p for p in (e.errors if isinstance(e, UserErrors) else [e]) if p.field not in named]
    if problems:
        raise UserErrors(problems)
    return result
