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


@strawberry.type(description="Where a page stands in its list. An embedded value of its connection.")
class PageInfo:
    has_next_page: bool
    has_previous_page: bool = strawberry.field(
        description="Pages are read forward (`first`/`after`): always false, as Relay allows.")
    start_cursor: str | None
    end_cursor: str | None


@strawberry.type(description="One node of a page and its cursor. An embedded value of its connection.")
class Edge(Generic[T]):
    cursor: str = strawberry.field(description="Opaque; valid for this list, for this caller, for 24 hours.")
    node: T


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
    edges = [Edge(cursor=codec.seal(key, binding, now), node=node(item)) for key, item in result.edges]
    return Connection(edges=edges, page_info=PageInfo(
        has_next_page=result.has_next, has_previous_page=False,
        start_cursor=edges[0].cursor if edges else None, end_cursor=edges[-1].cursor if edges else None))
