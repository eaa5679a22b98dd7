"""memberUpdateProfile: a member changes their own name, email, birthday or marketing consent."""
from __future__ import annotations

from datetime import date

import strawberry

from domain import members as rules
from domain import bounds
from resolvers.context import Info
from resolvers.errors import UserErrorType, payload_errors
from resolvers.partial import apply, updatable
from resolvers.payloads import ChangedMember
from resolvers.permissions import IsMember


@strawberry.input(description="Only the fields given change: a field left out keeps its value; null clears it where "
                              "the field says it can be cleared.")
class MemberUpdateProfileInput:
    name: str | None = updatable(clearable=False, bound=bounds.TEXT)
    email: str | None = updatable(clearable=False, bound=bounds.EMAIL)
    birthday: date | None = updatable(clearable=True, description="Cleared, no birthday points come any more.")
    marketing_consent: bool | None = updatable(clearable=False)
    locale: str | None = updatable(clearable=True, bound=bounds.LOCALE, description="The language for messages.")


@strawberry.type(description="The member as changed (points from profile rules included).")
class MemberUpdateProfilePayload(ChangedMember):
    user_errors: list[UserErrorType] = strawberry.field(default_factory=list)


@payload_errors(MemberUpdateProfilePayload)
def member_update_profile(info: Info, input: MemberUpdateProfileInput) -> MemberUpdateProfilePayload:
    ctx = info.context
    now = ctx.now()
    change = apply(rules.ProfileChange(), input, validate=lambda c: rules.validate_profile_change(c, now.date()))
    change = rules.validate_profile_change(change, now.date())  # normalised (trimmed name, lower-case email)
    member = ctx.members.update_profile(ctx.principal.member_id, change, now.isoformat(),
                                        verified_email=ctx.principal.verified_email)
    ctx.welcome.email_bound(member, now)
    ctx.welcome.profile_changed(member, now)
    return MemberUpdateProfilePayload(changed_member=member.id)


field = strawberry.mutation(resolver=member_update_profile, permission_classes=[IsMember],
                            description="Change the signed-in member's profile.")
