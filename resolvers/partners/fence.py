"""Partners call `partnerMemberStatus` and nothing else: any other root field a partner's token selects is
refused here, once, for every field there is and every one added later (a field's own permission may
forget partners; this cannot)."""
from __future__ import annotations

from typing import Any, Callable

from graphql import GraphQLError
from strawberry.extensions import SchemaExtension

from domain.access import Kind

PARTNER_FIELDS = frozenset({"partnerMemberStatus", "__typename"})


class PartnerFence(SchemaExtension):
    def resolve(self, _next: Callable[..., Any], root: Any, info: Any, *args: Any, **kwargs: Any) -> Any:
        if info.path.prev is None and info.field_name not in PARTNER_FIELDS:
            principal = getattr(info.context, "principal", None)
            if principal is not None and principal.kind is Kind.PARTNER:
                raise GraphQLError("Partners may call partnerMemberStatus only.", extensions={"code": "FORBIDDEN"})
        return _next(root, info, *args, **kwargs)
