"""Relay connections whose cursors wrap DynamoDB's LastEvaluatedKey."""
from __future__ import annotations

from typing import Generic, TypeVar

import strawberry

from domain.errors import ErrorCode, UserError

MAX_PAGE = 100
DEFAULT_PAGE = 20

T = TypeVar("T")


@strawberry.type
class PageInfo:
    has_next_page: bool
    end_cursor: str | None


@strawberry.type
class Edge(Generic[T]):
    cursor: str
    node: T


@strawberry.type
class Connection(Generic[T]):
    edges: list[Edge[T]]
    page_info: PageInfo


def page_size(first: int | None) -> int:
    """`first` defaults to 20 and is capped at 100; zero or less is an input error."""
    if first is None:
        return DEFAULT_PAGE
    if first < 1:
        raise UserError(ErrorCode.OUT_OF_RANGE, "`first` must be at least 1.", "first")
    return min(first, MAX_PAGE)
