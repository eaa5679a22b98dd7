"""Pages over DynamoDB Queries. A page's keys are the items' own keys (as LastEvaluatedKey would be);
the resolvers seal them into cursors (infra/cursors.py) and open them again before a query."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable, Generic, Iterable, Sequence, TypeVar

from infra.cursors import InvalidCursor

T = TypeVar("T")


def start_key(start: dict[str, Any] | None, expected_pk: str, pk_attr: str = "PK") -> dict[str, Any] | None:
    """An opened cursor's key, checked once more against the partition being read: a key of another
    partition would make DynamoDB refuse the query."""
    if start is None:
        return None
    value = start.get(pk_attr) if isinstance(start, dict) else None
    if not isinstance(value, dict) or value.get("S") != expected_pk:
        raise InvalidCursor("cursor from another list")
    return start


@dataclass(frozen=True)
class Page(Generic[T]):
    edges: list[tuple[dict[str, Any], T]]  # (the item's key, node)
    has_next: bool


def key_of(item: Any, attrs: Iterable[str]) -> dict[str, Any]:
    return {a: {"S": getattr(item, a)} for a in attrs}


def page(result: Any, convert: Any, key_attrs: tuple[str, ...], limit: int) -> Page:
    """A page from a pynamodb ResultIterator asked for `limit + 1` items: the extra one only says
    that another page exists, so `has_next` is never true in front of an empty page."""
    items = list(result)
    return Page(edges=[(key_of(i, key_attrs), convert(i)) for i in items[:limit]], has_next=len(items) > limit)


Position = list  # an item's place in a list's order: strings and whole numbers, compared in turn


def list_page(items: Sequence[T], position: Callable[[T], Position], first: int, after: dict | None) -> Page[T]:
    """A page of a list already in memory (the cached catalog, a member's dashboard), in `position`
    order. The key of each edge is the item's position, so a page read after the list changed still
    continues right after the last item shown; one item past the page says whether there is more."""
    ordered = sorted(items, key=position)
    if after is not None:
        mark = after.get("at") if isinstance(after, dict) else None
        if not isinstance(mark, list) or not all(isinstance(x, (str, int)) and not isinstance(x, bool) for x in mark):
            raise InvalidCursor("not a list position")
        try:
            ordered = [i for i in ordered if position(i) > mark]
        except TypeError:  # a position of another list's shape
            raise InvalidCursor("not a list position") from None
    return Page(edges=[({"at": position(i)}, i) for i in ordered[:first]], has_next=len(ordered) > first)
