"""Production introspection: the schema's shape is not served, but `__type(name:) { name }` is.

`__schema` is refused, and so is every field of `__Type` but `name` (and `__typename`): fields,
arguments, enum values, input fields, interfaces and descriptions stay unanswered. Whether a type
exists is no secret: validation already tells it (a fragment `... on Member` is an unknown type or
not). The GraphQL-over-HTTP conformance audit (npm graphql-http) sends exactly
`query Type($name: String!) { __type(name: $name) { name } }` to check that variables are served,
and a production server must pass it (tests/api/test_graphql_over_http.py).
"""
from __future__ import annotations

from typing import Any

from graphql import FieldNode, GraphQLError, ValidationRule, get_named_type

TYPE_FIELDS_SERVED = frozenset({"name", "__typename"})


class NoSchemaShapeIntrospection(ValidationRule):
    def enter_field(self, node: FieldNode, *_: Any) -> None:
        name = node.name.value
        parent = self.context.get_parent_type()
        on_type = parent is not None and get_named_type(parent).name == "__Type"
        if name == "__schema":
            self.report_error(GraphQLError(
                "GraphQL introspection has been disabled, but the requested query contained the field '__schema'.",
                node))
        elif on_type and name not in TYPE_FIELDS_SERVED:
            self.report_error(GraphQLError(
                f"GraphQL introspection has been disabled: '__type' answers only 'name', and the requested "
                f"query contained the field '{name}'.", node))
