"""memberUpdateProfile: a member changes their own name, email, birthday or marketing consent."""
from __future__ import annotations

from datetime import date

import strawberry

from domain import members as rules
from domain import bounds
from resolvers.scalars import bounded
from resolvers.context import Info
from resolvers.errors import UserErrorType, payload_errors
from resolvers.members.types import Member
from resolvers.permissions import IsMember


@strawberry.input
class MemberUpdateProfileInput:
    name: str | None = bounded(bounds.TEXT, default=None)
    email: str | None = bounded(bounds.EMAIL, default=None)
    birthday: date | None = None
    marketing_consent: bool | None = None


@strawberry.type
class MemberUpdateProfilePayload:
    member: Member | None = None
    user_errors: list[UserErrorType] = strawberry.field(default_factory=list)


@payload_errors(MemberUpdateProfilePayload)
def member_update_profile(info: Info, input: MemberUpdateProfileInput) -> MemberUpdateProfilePayload:
    ctx = info.context
    now = ctx.now()
    change = rules.validate_profile_change(rules.ProfileChange(
        name=input.name, email=input.email, birthday=input.birthday,
        marketing_consent=input.marketing_consent), now.date())
    member = ctx.members.update_profile(ctx.principal.member_id, change, now.isoformat(),
                                        verified_email=ctx.principal.verified_email)
    ctx.welcome.email_bound(member, now)
    ctx.welcome.profile_changed(member, now)
    ctx.forget_member(member.id)
    member = ctx.members.get(member.id) or member
    return MemberUpdateProfilePayload(member=Member.of(member))


field = strawberry.mutation(resolver=member_update_profile, permission_classes=[IsMember],
                            description="Change the signed-in member's profile.")
