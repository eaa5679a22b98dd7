"""One schema from every domain folder, hardened for production unless the settings say dev."""
from __future__ import annotations

import logging
import operator
from typing import Any, Callable

import strawberry
from graphql import (
    DocumentNode,
    FieldNode,
    FragmentDefinitionNode,
    GraphQLError,
    GraphQLSyntaxError,
    InlineFragmentNode,
    OperationDefinitionNode,
    SelectionSetNode,
    ValidationRule,
)
from strawberry.exceptions import StrawberryGraphQLError
from strawberry.extensions import (
    AddValidationRules,
    MaxTokensLimiter,
    ParserCache,
    SchemaExtension,
    ValidationCache,
)
from strawberry.schema.config import StrawberryConfig
from strawberry.tools import merge_types

from domain.errors import UserError, UserErrors
from infra.dynamo_errors import RetryLater, is_retryable
from resolvers.errors import log_name, loggable
from resolvers.badges.mutations.all import BadgeMutations
from resolvers.badges.queries import BadgeQueries
from resolvers.challenges.mutations.all import ChallengeMutations
from resolvers.challenges.queries import ChallengeQueries
from resolvers.events_out.mutations.all import EventsOutMutations
from resolvers.events_out.queries import EventsOutQueries
from resolvers.introspection import NoSchemaShapeIntrospection
from resolvers.leaderboards.mutations.all import LeaderboardMutations
from resolvers.lifecycle.mutations.all import LifecycleMutations
from resolvers.lifecycle.queries import LifecycleQueries
from resolvers.leaderboards.queries import LeaderboardQueries
from resolvers.members.mutations.all import MemberMutations
from resolvers.members.queries import MemberQueries
from resolvers.nodes import REGISTRY, NodeQueries
from resolvers.partners.fence import PartnerFence
from resolvers.partners.mutations.all import PartnerMutations
from resolvers.partners.queries import PartnerQueries
from resolvers.points.mutations.all import PointsMutations
from resolvers.points.queries import PointsQueries
from resolvers.posts.mutations.all import PostMutations
from resolvers.posts.queries import PostQueries
from resolvers.scalars import SCALAR_MAP, BoundedInputs
from resolvers.webhooks.queries import WebhookQueries
from resolvers.vip_events.mutations.all import VipEventMutations
from resolvers.vip_events.queries import VipEventQueries
from resolvers.tiers.mutations.all import TierMutations
from resolvers.tiers.queries import TierQueries

log = logging.getLogger("kizuna.graphql")

QUERY_TYPES: tuple[type, ...] = (NodeQueries, MemberQueries, PointsQueries, WebhookQueries, TierQueries, BadgeQueries, ChallengeQueries, LeaderboardQueries, PostQueries, VipEventQueries, EventsOutQueries, PartnerQueries, LifecycleQueries)
MUTATION_TYPES: tuple[type, ...] = (MemberMutations, PointsMutations, TierMutations, BadgeMutations, ChallengeMutations, LeaderboardMutations, PostMutations, VipEventMutations, EventsOutMutations, PartnerMutations, LifecycleMutations)


class MaskUnexpectedErrors(SchemaExtension):
    """Known errors pass with a code; anything else is logged with context and masked. ("Did you
    mean ...?" hints are dropped where every response body is serialized: api.messages.json_response.)"""

    def on_operation(self) -> Any:
        yield
        result = self.execution_context.result
        if result is None or not getattr(result, "errors", None):
            return
        result.errors = [self._process(e) for e in result.errors]

    def _process(self, error: GraphQLError) -> GraphQLError:
        original = error.original_error
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
        where = log_fields(self.execution_context, error, correlation_id)
        if isinstance(original, RetryLater) or is_retryable(original):
            # Throttled, conflicting or timed out: not the caller's mistake and not a bug; the same
            # request again is safe (every write is keyed) and will likely succeed.
            retry_after = getattr(original, "retry_after", 1)
            log.warning("graphql retryable fault code=RETRY_LATER %s: %s", log_line(where),
                        loggable(f"{type(original).__name__}: {original}"), extra={**where, "code": "RETRY_LATER"})
            return GraphQLError("The service is busy; send the same request again shortly.", error.nodes,
                                error.source, error.positions, error.path,
                                extensions={"code": "RETRY_LATER", "retryAfter": retry_after,
                                            "correlationId": correlation_id})
        # The line names the exception's type only: its text, like the traceback, may quote data, and
        # the traceback goes with the record (exc_info) to where the operator reads it.
        log.error("graphql unexpected error code=INTERNAL %s: %s", log_line(where), type(original).__name__,
                  exc_info=original, extra={**where, "code": "INTERNAL"})
        return GraphQLError("Unexpected error.", error.nodes, error.source, error.positions, error.path,
                            extensions={"code": "INTERNAL", "correlationId": correlation_id})


def log_fields(execution_context: Any, error: GraphQLError, correlation_id: str | None) -> dict[str, Any]:
    """What a log line about one error says: the same keys on the line and as structured fields."""
    return {"operation": log_name(getattr(execution_context, "operation_name", None)),
            "path": ".".join(str(p) for p in error.path) if error.path else None,
            "correlation_id": correlation_id}


def log_line(fields: dict[str, Any]) -> str:
    return " ".join(f"{k}={v if v is not None else '-'}" for k, v in fields.items())


# -- limits on the document -----------------------------------------------------------------------
# Our own depth and alias rules, not strawberry's: those recurse per spread, so fragments spreading
# each other twice at each of n levels cost 2**n steps (a 2 KB document held a Lambda for minutes),
# and its depth rule raised KeyError on a spread of an unknown fragment. These measure each fragment
# once, without recursion, and leave unknown fragments and fragment cycles to graphql-core's
# KnownFragmentNames and NoFragmentCycles rules, which report them.
def _measure(selection_set: SelectionSetNode, fragments: dict[str, FragmentDefinitionNode], memo: dict[str, int],
             *, weight: Callable[[FieldNode], int], descend: Callable[[FieldNode], bool],
             combine: Callable[[int, int], int]) -> int:
    """Fold a selection set bottom-up: a field is its weight plus the fold of its selections (when it
    descends), a fragment is the fold of its selections, `combine` joins siblings."""
    # frames: selections left, folded so far (a one-item list, updated in place), weight, fragment name
    stack: list[tuple[Any, list[int], int, str | None]] = [(iter(selection_set.selections), [0], 0, None)]
    active: set[str] = set()
    while True:
        selections, folded, own, fragment = stack[-1]
        node = next(selections, None)
        if node is None:
            stack.pop()
            value = folded[0] + own
            if fragment is not None:
                memo[fragment] = value
                active.discard(fragment)
            if not stack:
                return value
            stack[-1][1][0] = combine(stack[-1][1][0], value)
        elif isinstance(node, FieldNode):
            if node.selection_set is not None and descend(node):
                stack.append((iter(node.selection_set.selections), [0], weight(node), None))
            else:
                folded[0] = combine(folded[0], weight(node))
        elif isinstance(node, InlineFragmentNode):
            stack.append((iter(node.selection_set.selections), [0], 0, None))
        else:  # a fragment spread
            name = node.name.value
            if name in memo:
                folded[0] = combine(folded[0], memo[name])
            elif name in fragments and name not in active:
                active.add(name)
                stack.append((iter(fragments[name].selection_set.selections), [0], 0, name))


def _parts(document: DocumentNode) -> tuple[list[OperationDefinitionNode], dict[str, FragmentDefinitionNode]]:
    operations = [d for d in document.definitions if isinstance(d, OperationDefinitionNode)]
    fragments = {d.name.value: d for d in document.definitions if isinstance(d, FragmentDefinitionNode)}
    return operations, fragments


def depth_rule(max_depth: int) -> type[ValidationRule]:
    """Nesting of fields, as strawberry's QueryDepthLimiter counts it: top-level fields are depth 0,
    and introspection fields (`__schema`, `__type`) do not count what is below them."""

    def descends(field: FieldNode) -> bool:
        return not field.name.value.startswith("__")

    def level(field: FieldNode) -> int:
        return int(field.selection_set is not None and descends(field))

    class MaxDepth(ValidationRule):
        def enter_document(self, node: DocumentNode, *_: Any) -> None:
            operations, fragments = _parts(node)
            memo: dict[str, int] = {}
            for operation in operations:
                depth = _measure(operation.selection_set, fragments, memo, weight=level, descend=descends,
                                 combine=max)
                if depth > max_depth:
                    name = operation.name.value if operation.name else "anonymous"
                    self.report_error(GraphQLError(f"'{name}' exceeds maximum operation depth of {max_depth}",
                                                   [operation]))

    return MaxDepth


def aliases_rule(max_aliases: int) -> type[ValidationRule]:
    """Aliases in the whole document, each fragment counted once per spread (the work it asks for)."""

    class MaxAliases(ValidationRule):
        def enter_document(self, node: DocumentNode, *_: Any) -> None:
            operations, fragments = _parts(node)
            memo: dict[str, int] = {}
            total = sum(_measure(o.selection_set, fragments, memo, weight=lambda f: int(f.alias is not None),
                                 descend=lambda f: True, combine=operator.add) for o in operations)
            if total > max_aliases:
                self.report_error(GraphQLError(f"{total} aliases found. Allowed: {max_aliases}"))

    return MaxAliases


class Schema(strawberry.Schema):
    """Strawberry logs every error at ERROR with a traceback. Here an error the caller caused (syntax,
    validation, coercion, permission, input) is one INFO line without a traceback and without the
    values it quotes (resolvers.errors.loggable); one raised before execution is one ERROR line here;
    a resolver's unexpected or retryable one is MaskUnexpectedErrors' to log (ERROR or WARNING). Every
    line names the code, operation, path and correlation id, on the line and as structured fields."""

    def process_errors(self, errors: list[GraphQLError], execution_context: Any = None) -> None:
        correlation_id = getattr(getattr(execution_context, "context", None), "correlation_id", None)
        for error in errors:
            original = error.original_error
            where = log_fields(execution_context, error, correlation_id)
            if original is not None and not isinstance(original, (GraphQLError, UserError, UserErrors,
                                                                  PermissionError)):
                if error.path is None:
                    # Raised before execution (a crashing rule or extension): our fault, and nothing
                    # else sees it with the operation known. Api.graphql answers it with a masked 500.
                    log.error("graphql unexpected error code=INTERNAL %s: %s", log_line(where),
                              type(original).__name__, exc_info=original, extra={**where, "code": "INTERNAL"})
                continue  # raised by a resolver: MaskUnexpectedErrors logs it, with its traceback
            code = client_code(error)
            if code is None:
                # A field error graphql-core raised itself, e.g. a value our resolver returned that its
                # type cannot serialize: the caller did nothing wrong.
                log.warning("graphql field error without a code %s: %s", log_line(where), loggable(error.message),
                            extra=where)
                continue
            log.info("graphql client error code=%s %s: %s", code, log_line(where), loggable(error.message),
                     extra={**where, "code": code})


def client_code(error: GraphQLError) -> str | None:
    """The code of an error the caller caused, as its response states it (None: not the caller's)."""
    original = error.original_error
    if isinstance(original, (UserError, UserErrors)):
        return (original.errors[0] if isinstance(original, UserErrors) else original).code.value
    if isinstance(original, PermissionError):
        return "FORBIDDEN"
    if original is not None and not isinstance(original, GraphQLError):
        return None
    code = (error.extensions or {}).get("code")
    if code:
        return str(code)
    if error.path is not None:
        return None  # our resolvers give every error they raise a code
    # nothing ran: the document does not parse, is not valid, or its variables do not coerce
    return "GRAPHQL_PARSE_FAILED" if isinstance(error, GraphQLSyntaxError) else "BAD_REQUEST"


def build_schema(*, dev: bool = False, max_depth: int = 10, max_aliases: int = 15,
                 max_tokens: int = 2000) -> strawberry.Schema:
    # Limit rules are built once: the validation cache is keyed by the rule classes, and building
    # them per request (as the limiter extensions do) would make every request a cache miss.
    rules = [depth_rule(max_depth), aliases_rule(max_aliases)]
    if not dev:
        rules.append(NoSchemaShapeIntrospection)  # __schema and any type's shape refused; __type(name:) { name } served
    extensions: list[Any] = [
        lambda: MaxTokensLimiter(max_token_count=max_tokens),
        lambda: ParserCache(maxsize=256),
        lambda: AddValidationRules(rules),
        lambda: ValidationCache(maxsize=256),
        MaskUnexpectedErrors,
        BoundedInputs,  # stateless: one instance per request is all it needs
        PartnerFence,  # partners reach partnerMemberStatus and nothing else
    ]
    Query = merge_types("Query", QUERY_TYPES)
    Mutation = merge_types("Mutation", MUTATION_TYPES)
    return Schema(
        query=Query, mutation=Mutation, extensions=extensions,
        types=[kind.cls for kind in REGISTRY.values()],  # every Node type, reachable by `node(id:)` alone too
        config=StrawberryConfig(disable_field_suggestions=not dev, scalar_map=SCALAR_MAP),
    )
