"""Relay connections, all through `connection()`: page size, sealed cursors bound to their list, pageInfo."""
from __future__ import annotations

import json
from typing import Any, Callable, Generic, TypeVar

import strawberry
from graphql import GraphQLError

from domain.errors import ErrorCode, UserError
from infra.cursors import InvalidCursor
from infra.pages import Page

MAX_PAGE = 100
DEFAULT_PAGE = 20
PAGE_ARGS = frozenset({"first", "after"})

T = TypeVar("T")
N = TypeVar("N")


class _Sealer:
    """Seals an item's key into its cursor when a cursor is asked for, once: a page read for its
    `nodes` alone encrypts nothing (each seal is an AES-GCM operation)."""

    def __init__(self, codec: Any, binding: str, now: Any) -> None:
        self.codec, self.binding, self.now = codec, binding, now
        self.done: dict[int, str] = {}

    def cursor(self, i: int, key: dict) -> str:
        if i not in self.done:
            self.done[i] = self.codec.seal(key, self.binding, self.now)
        return self.done[i]


@strawberry.type(description="Where a page stands in its list. An embedded value of its connection.")
class PageInfo:
    has_next_page: bool
    has_previous_page: bool = strawberry.field(
        description="Pages are read forward (`first`/`after`): always false, as Relay allows.")
    edges: strawberry.Private[list["Edge[Any]"]]

    @strawberry.field
    def start_cursor(self) -> str | None:
        return self.edges[0].sealed() if self.edges else None

    @strawberry.field
    def end_cursor(self) -> str | None:
        return self.edges[-1].sealed() if self.edges else None


@strawberry.type(description="One node of a page and its cursor. An embedded value of its connection.")
class Edge(Generic[T]):
    node: T
    key: strawberry.Private[dict]
    index: strawberry.Private[int]
    sealer: strawberry.Private[_Sealer]

    def sealed(self) -> str:
        return self.sealer.cursor(self.index, self.key)

    @strawberry.field(description="Opaque; valid for this list, for this caller, for 24 hours.")
    def cursor(self) -> str:
        return self.sealed()


@strawberry.type(description="A page of a list, read forward with `first` and `after` (pageInfo.endCursor). An "
                             "embedded value of the field that returned it: it has no id of its own.")
class Connection(Generic[T]):
    edges: list[Edge[T]]
    page_info: PageInfo

    @strawberry.field(description="The page's nodes, as in `edges`, for callers that need no cursors.")
    def nodes(self) -> list[T]:
        return [e.node for e in self.edges]


def page_size(first: int | None) -> int:
    """`first` defaults to 20 and is capped at 100; zero or less is an input error."""
    if first is None:
        return DEFAULT_PAGE
    if first < 1:
        raise UserError(ErrorCode.OUT_OF_RANGE, "`first` must be at least 1.", "first")
    return min(first, MAX_PAGE)


def _binding(info: Any, owner: str) -> str:
    """What a cursor is bound to: tenant, caller, the connection field, whose list it is, and every
    filter argument. A cursor of any other list does not open."""
    ctx = info.context
    selected = info.selected_fields[0] if info.selected_fields else None
    filters = {k: v for k, v in (selected.arguments if selected else {}).items() if k not in PAGE_ARGS}
    return json.dumps([ctx.tenant, ctx.principal.kind.value, ctx.principal.subject,
                       f"{info.path.typename}.{info.field_name}", owner, filters],
                      separators=(",", ":"), sort_keys=True, default=str)


def connection(info: Any, first: int | None, after: str | None, fetch: Callable[[int, dict | None], Page[T]],
               node: Callable[[T], N], *, owner: str = "") -> Connection[N]:
    """The one way to answer a connection field. `fetch(size, start_key)` reads `size` items after the
    opened cursor's key (infra's `page()`); `owner` names whose list it is (a member's history)."""
    size = page_size(first)
    codec = info.context.services.cursors
    binding = _binding(info, owner)
    now = info.context.now()
    start = None
    if after is not None:
        try:
            start = codec.open(after, binding, now)
        except InvalidCursor:
            raise GraphQLError("The cursor is not valid for this list (it may have expired).",
                               extensions={"code": "BAD_USER_INPUT", "field": "after"}) from None
    try:
        result = fetch(size, start)
    except InvalidCursor:
        raise GraphQLError("The cursor is not valid for this list.",
                           extensions={"code": "BAD_USER_INPUT", "field": "after"}) from None
    sealer = _Sealer(codec, binding, now)
    edges = [Edge(node=node(item), key=key, index=i, sealer=sealer) for i, (key, item) in enumerate(result.edges)]
    return Connection(edges=edges, page_info=PageInfo(has_next_page=result.has_next, has_previous_page=False,
                                                      edges=edges))
