"""One schema from every domain folder, hardened for production unless the settings say dev."""
from __future__ import annotations

import logging
import re
from typing import Any

import strawberry
from graphql import GraphQLError
from strawberry.exceptions import StrawberryGraphQLError
from strawberry.extensions import (
    AddValidationRules,
    DisableIntrospection,
    MaxAliasesLimiter,
    MaxTokensLimiter,
    ParserCache,
    QueryDepthLimiter,
    SchemaExtension,
    ValidationCache,
)
from strawberry.schema.config import StrawberryConfig
from strawberry.tools import merge_types

from domain.errors import UserError, UserErrors
from resolvers.members.mutations.all import MemberMutations
from resolvers.members.queries import MemberQueries
from resolvers.points.mutations.all import PointsMutations
from resolvers.points.queries import PointsQueries

log = logging.getLogger("kizuna.graphql")

QUERY_TYPES: tuple[type, ...] = (MemberQueries, PointsQueries)
MUTATION_TYPES: tuple[type, ...] = (MemberMutations, PointsMutations)


_SUGGESTION = re.compile(r"\s*Did you mean [^?]*\?")


class MaskUnexpectedErrors(SchemaExtension):
    """Known errors pass with a code; anything else is logged with context and masked. In
    production, validation errors lose their "Did you mean ...?" hints, which would leak the schema."""

    def __init__(self, hide_suggestions: bool = True):
        self.hide_suggestions = hide_suggestions

    def on_operation(self) -> Any:
        yield
        result = self.execution_context.result
        if result is None or not getattr(result, "errors", None):
            return
        result.errors = [self._process(e) for e in result.errors]

    def _process(self, error: GraphQLError) -> GraphQLError:
        original = error.original_error
        if original is None and self.hide_suggestions and "Did you mean" in error.message:
            return GraphQLError(_SUGGESTION.sub("", error.message), error.nodes, error.source, error.positions,
                                error.path, extensions=error.extensions)
        if original is None or isinstance(original, (StrawberryGraphQLError, GraphQLError)):
            return error  # syntax, validation, limits and permission errors: written for the caller
        if isinstance(original, (UserError, UserErrors)):
            first = original.errors[0] if isinstance(original, UserErrors) else original
            return GraphQLError(error.message, error.nodes, error.source, error.positions, error.path,
                                extensions={"code": first.code.value, "field": first.field})
        if isinstance(original, PermissionError):
            return GraphQLError(str(original) or "You are not allowed to do this.", error.nodes, error.source,
                                error.positions, error.path, extensions={"code": "FORBIDDEN"})
        context = self.execution_context.context
        correlation_id = getattr(context, "correlation_id", None)
        log.error("unexpected error in %s at %s", self.execution_context.operation_name or "operation",
                  error.path, exc_info=original,
                  extra={"correlation_id": correlation_id, "path": error.path})
        return GraphQLError("Unexpected error.", error.nodes, error.source, error.positions, error.path,
                            extensions={"code": "INTERNAL", "correlationId": correlation_id})


def build_schema(*, dev: bool = False, max_depth: int = 10, max_aliases: int = 15,
                 max_tokens: int = 2000) -> strawberry.Schema:
    # Limit rules are built once: the validation cache is keyed by the rule classes, and building
    # them per request (as the limiter extensions do) would make every request a cache miss.
    rules = [*QueryDepthLimiter(max_depth=max_depth).validation_rules,
             *MaxAliasesLimiter(max_alias_count=max_aliases).validation_rules]
    if not dev:
        rules += DisableIntrospection().validation_rules
    extensions: list[Any] = [
        lambda: MaxTokensLimiter(max_token_count=max_tokens),
        lambda: ParserCache(maxsize=256),
        lambda: AddValidationRules(rules),
        lambda: ValidationCache(maxsize=256),
        lambda: MaskUnexpectedErrors(hide_suggestions=not dev),
    ]
    Query = merge_types("Query", QUERY_TYPES)
    Mutation = merge_types("Mutation", MUTATION_TYPES)
    return strawberry.Schema(
        query=Query, mutation=Mutation, extensions=extensions,
        config=StrawberryConfig(disable_field_suggestions=not dev),
    )
