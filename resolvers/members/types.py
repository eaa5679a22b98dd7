"""GraphQL shapes of a member, their points summary and history."""
from __future__ import annotations

from datetime import date, datetime

import strawberry

from domain import members as rules
from domain.points.balance import EntryType as EntryTypeRule
from infra.points.history import history, points_view
from resolvers.context import Info
from resolvers.pagination import Connection, connection
from resolvers.permissions import IsStaff
from resolvers.points.types import EntryType, ExpiringSoon, PointsEntry, Redemption, ReturnRate


@strawberry.type(description="A member's point balances. Points are whole numbers.")
class PointsSummary:
    member_id: strawberry.Private[str]
    available: int = strawberry.field(description="Spendable now.")
    pending: int = strawberry.field(description="Earned, held until the order's return window closes.")
    lifetime: int = strawberry.field(description="Everything ever earned, before spending or expiry.")
    debt: int = strawberry.field(description="Reversed points that were already spent; later earnings repay it first.")

    @strawberry.field(description="The next points to expire within the program's reminder horizon.")
    def expiring_soon(self, info: Info) -> ExpiringSoon | None:
        ctx = info.context
        view = points_view(ctx.member_card(self.member_id), ctx.programs.program(), ctx.now())
        return ExpiringSoon.of(view.expiring_soon) if view else None


@strawberry.type(description="A member of the loyalty program.")
class Member:
    id: strawberry.ID
    name: str
    email: str = strawberry.field(description="Contact address, as the member gave it.")
    email_verified: bool = strawberry.field(
        description="True when the sign-in token vouches for an email (its verified email claim) and it is bound to "
                    "this member: guest orders with that address are credited here.")
    birthday: date | None
    marketing_consent: bool
    referral_code: str = strawberry.field(description="Share it: a friend who enrolls with it is referred by this member.")
    joined_at: datetime
    tier: str | None
    points: PointsSummary

    @strawberry.field(description="Points history, newest first; filter by entry type.")
    def points_history(self, info: Info, first: int | None = None, after: str | None = None,
                       types: list[EntryType] | None = None) -> Connection[PointsEntry]:
        tenant, wanted = info.context.require_tenant(), [EntryTypeRule(t.value) for t in types] if types else None
        return connection(info, first, after, lambda size, start: history(tenant, str(self.id), size, start, wanted),
                          PointsEntry.of, owner=str(self.id))

    @strawberry.field(description="Rewards redeemed, newest first, with their coupon codes.")
    def redemptions(self, info: Info, first: int | None = None, after: str | None = None) -> Connection[Redemption]:
        rewards = info.context.rewards
        return connection(info, first, after, lambda size, start: rewards.member_coupons(str(self.id), size, start),
                          Redemption.of, owner=str(self.id))

    @strawberry.field(permission_classes=[IsStaff], description="Staff: the member's recent return rate.")
    def return_rate(self, info: Info) -> ReturnRate:
        r = info.context.orders.return_rate(str(self.id), info.context.now())
        return ReturnRate(orders=r.orders, returns=r.returns, rate=r.rate, window_days=r.window_days)

    @classmethod
    def of(cls, m: rules.Member) -> "Member":
        return cls(
            id=strawberry.ID(m.id), name=m.name, email=m.email, email_verified=m.verified_email is not None,
            birthday=m.birthday,
            marketing_consent=m.marketing_consent, referral_code=m.referral_code,
            joined_at=datetime.fromisoformat(m.joined_at), tier=m.tier,
            points=PointsSummary(member_id=m.id, available=m.points.available, pending=m.points.pending,
                                 lifetime=m.points.lifetime, debt=m.points.debt),
        )


MemberConnection = Connection[Member]
