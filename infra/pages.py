"""Cursor pages over DynamoDB Queries: a cursor is the item's own key, as LastEvaluatedKey would be."""
from __future__ import annotations

import base64
import json
from dataclasses import dataclass
from typing import Any, Generic, Iterable, TypeVar

from domain.errors import ErrorCode, UserError

T = TypeVar("T")


def encode_cursor(key: dict[str, Any]) -> str:
    return base64.urlsafe_b64encode(json.dumps(key, separators=(",", ":"), sort_keys=True).encode()).decode()


def decode_cursor(cursor: str | None, expected_pk: str, pk_attr: str = "PK") -> dict[str, Any] | None:
    """A cursor that does not decode, or points into another list, is an input error."""
    if not cursor:
        return None
    try:
        key = json.loads(base64.urlsafe_b64decode(cursor.encode()))
        if not isinstance(key, dict) or key[pk_attr]["S"] != expected_pk:
            raise ValueError("cursor from another list")
        return key
    except Exception:
        raise UserError(ErrorCode.INVALID, "The cursor is not valid for this list.", "after") from None


@dataclass(frozen=True)
class Page(Generic[T]):
    edges: list[tuple[str, T]]  # (cursor, node)
    end_cursor: str | None
    has_next: bool


def key_of(item: Any, attrs: Iterable[str]) -> dict[str, Any]:
    return {a: {"S": getattr(item, a)} for a in attrs}


def page(result: Any, convert: Any, key_attrs: tuple[str, ...], limit: int) -> Page:
    """Build a page from a pynamodb ResultIterator that was asked for `limit` items."""
    items = list(result)
    edges = [(encode_cursor(key_of(i, key_attrs)), convert(i)) for i in items]
    has_next = result.last_evaluated_key is not None and len(items) >= limit
    return Page(edges=edges, end_cursor=edges[-1][0] if edges else None, has_next=has_next)
