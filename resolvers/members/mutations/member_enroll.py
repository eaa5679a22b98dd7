"""memberEnroll: the signed-in person joins the program."""
from __future__ import annotations

from datetime import date

import strawberry

from domain import members as rules
from domain.errors import collect
from domain import bounds
from resolvers.scalars import bounded
from resolvers.context import Info
from resolvers.errors import UserErrorType, payload_errors
from resolvers.payloads import ChangedMember
from resolvers.permissions import IsMember


@strawberry.input
class MemberEnrollInput:
    name: str = bounded(bounds.TEXT)
    email: str = bounded(bounds.EMAIL, description="Contact address. It binds the member's orders only when "
                                  "the sign-in token vouches for it (a verified email claim).")
    birthday: date | None = None
    marketing_consent: bool = False
    referral_code: str | None = bounded(bounds.CODE, default=None, description="A friend's referral code.")
    locale: str | None = bounded(bounds.LOCALE, default=None, description="The language for messages to the member.")


@strawberry.type(description="The new member, welcome points included.")
class MemberEnrollPayload(ChangedMember):
    user_errors: list[UserErrorType] = strawberry.field(default_factory=list)


@payload_errors(MemberEnrollPayload)
def member_enroll(info: Info, input: MemberEnrollInput) -> MemberEnrollPayload:
    ctx = info.context
    now = ctx.now()
    enrollment = rules.validate_enrollment(rules.Enrollment(
        name=input.name, email=input.email, birthday=input.birthday,
        marketing_consent=input.marketing_consent, referred_by_code=input.referral_code, locale=input.locale,
    ), now.date())
    member_id = ctx.principal.member_id
    code = enrollment.referred_by_code
    referrer = code and ctx.members.referral_code_owner(code)
    collect(rules.check_referrer(code, referrer, member_id))
    member = ctx.members.enroll(member_id, enrollment, now.isoformat(), int(now.timestamp()),
                                verified_email=ctx.principal.verified_email)
    # Orders placed with this email before joining, then the signup, referral and profile rules.
    ctx.welcome.enrolled(member, referrer or None, now)
    return MemberEnrollPayload(changed_member=member_id)


field = strawberry.mutation(resolver=member_enroll, permission_classes=[IsMember],
                            description="Join the program as the signed-in member.")
