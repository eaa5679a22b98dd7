"""The payloads partner changes answer with."""
from __future__ import annotations

import strawberry

from resolvers.errors import UserErrorType
from resolvers.partners.types import Partner, PartnerConsent


@strawberry.type(description="The partner as changed.")
class PartnerPayload:
    partner: Partner | None = None
    user_errors: list[UserErrorType] = strawberry.field(default_factory=list)


@strawberry.type(description="The consent as changed.")
class PartnerConsentPayload:
    consent: PartnerConsent | None = None
    user_errors: list[UserErrorType] = strawberry.field(default_factory=list)
