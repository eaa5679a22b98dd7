"""GraphQL shapes of a member and their points summary."""
from __future__ import annotations

from datetime import date, datetime

import strawberry

from domain import members as rules
from resolvers.pagination import Connection


@strawberry.type(description="A member's point balances. Points are whole numbers.")
class PointsSummary:
    available: int = strawberry.field(description="Spendable now.")
    pending: int = strawberry.field(description="Earned, held until the order's return window closes.")
    lifetime: int = strawberry.field(description="Everything ever earned, before spending or expiry.")
    debt: int = strawberry.field(description="Reversed points that were already spent; repaid first by later earnings.")


@strawberry.type(description="A member of the loyalty program.")
class Member:
    id: strawberry.ID
    name: str
    email: str
    birthday: date | None
    marketing_consent: bool
    referral_code: str = strawberry.field(description="Share it: a friend who enrolls with it is referred by this member.")
    joined_at: datetime
    tier: str | None
    points: PointsSummary

    @classmethod
    def of(cls, m: rules.Member) -> "Member":
        return cls(
            id=strawberry.ID(m.id), name=m.name, email=m.email, birthday=m.birthday,
            marketing_consent=m.marketing_consent, referral_code=m.referral_code,
            joined_at=datetime.fromisoformat(m.joined_at), tier=m.tier,
            points=PointsSummary(available=m.points.available, pending=m.points.pending,
                                 lifetime=m.points.lifetime, debt=m.points.debt),
        )


MemberConnection = Connection[Member]
