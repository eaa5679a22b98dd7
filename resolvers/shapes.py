"""An object as the schema shows it, as plain JSON: what audit entries record of a change.

Derived from the strawberry types themselves, so an audit entry names every field as the schema
does (`categoryReturnWindows: [{category, days}]`, `tierMultipliers: [{tier, factor}]`) and follows
any rename; settings the schema does not show are not recorded. Computed fields (resolvers, such
as `id` and connections), private attributes and deprecated aliases are left out.
"""
from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from enum import Enum
from typing import Any, Collection

from strawberry.types.private import is_private
from strawberry.utils.str_converters import to_camel_case


def shape(value: Any, exclude: Collection[str] = ()) -> Any:
    if isinstance(value, Enum):
        return value.value
    definition = getattr(type(value), "__strawberry_definition__", None)
    if definition is not None:
        out = {}
        for f in definition.fields:
            if f.base_resolver is not None or f.deprecation_reason is not None or is_private(f.type):
                continue
            name = f.graphql_name or to_camel_case(f.python_name)
            if name not in exclude:
                out[name] = shape(getattr(value, f.python_name))
        return out
    if isinstance(value, (list, tuple)):
        return [shape(v) for v in value]
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, (datetime, date)):
        return value.isoformat()
    return value


def change(before: Any, after: Any, exclude: Collection[str] = ()) -> dict[str, Any]:
    """{"before": ..., "after": ...} of the fields that differ (all of `after` when there was no
    `before`), each as the schema shows it."""
    new = shape(after, exclude)
    if before is None:
        return {"before": None, "after": new}
    old = shape(before, exclude)
    changed = [k for k in new if old.get(k) != new[k]]
    return {"before": {k: old.get(k) for k in changed}, "after": {k: new[k] for k in changed}}
