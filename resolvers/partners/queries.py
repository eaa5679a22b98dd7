"""Partner queries: the registry (admin) and the one call a partner may make."""
from __future__ import annotations

from typing import Annotated

import strawberry
from strawberry.exceptions import StrawberryGraphQLError

from domain import bounds
from domain.partners.consent import SHAREABLE_FIELDS
from infra.partners.lookups import PartnerLookups, RateLimited
from infra.partners.registry import PartnerRegistry
from resolvers.context import Info
from resolvers.pagination import Connection, connection
from resolvers.partners.types import Partner, PartnerMemberStatus, member_since
from resolvers.permissions import IsAdmin, IsPartner
from resolvers.scalars import bounded, bounded_arg


@strawberry.input(description="Exactly one of the two: the linked id the member gave you, or the hex SHA-256 of "
                              "their email, trimmed and lower-cased.")
class PartnerMemberRefInput:
    linked_id: str | None = bounded(bounds.TEXT, default=None)
    email_sha256: str | None = bounded(bounds.TEXT, default=None)


FieldsArg = Annotated[list[str] | None, bounded_arg(bounds.TEXT, description=(
    "What you ask for, of tier, status and memberSince (default: all three). Asking for anything the member did "
    "not share gets no answer at all."))]


@strawberry.type
class PartnerQueries:
    @strawberry.field(permission_classes=[IsAdmin], description="Admin: the partner brands, in id order.")
    def partners(self, info: Info, first: int | None = None, after: str | None = None) -> Connection[Partner]:
        return connection(info, first, after, PartnerRegistry(info.context.require_tenant()).list, Partner.of)

    @strawberry.field(permission_classes=[IsPartner], description=(
        "Partners: a consenting member's status. Null for anyone who has not consented to you, has revoked, "
        "is not a member, or did not share a field you asked for, and while you are suspended: these cannot be "
        "told apart. Every call is recorded and shown to the member. Over your rate limit: RATE_LIMITED."))
    def partner_member_status(self, info: Info, member_ref: PartnerMemberRefInput,
                              fields: FieldsArg = None) -> PartnerMemberStatus | None:
        ctx = info.context
        lookups = PartnerLookups(ctx.require_tenant(), member_since(info))
        wanted = tuple(fields) if fields is not None else SHAREABLE_FIELDS
        try:
            found = lookups.status(str(ctx.principal.subject), member_ref.linked_id, member_ref.email_sha256,
                                   wanted, ctx.now())
        except RateLimited as e:
            raise StrawberryGraphQLError("Too many look-ups; wait and try again.", extensions={
                "code": "RATE_LIMITED", "retryAfter": e.retry_after_seconds}) from None
        if found is None:
            return None
        return PartnerMemberStatus(tier=found.get("tier"), status=found.get("status"),
                                   member_since=found.get("memberSince"))
