"""GraphQL shapes of a member, their points summary and history."""
from __future__ import annotations

from datetime import date, datetime
from typing import Any

import strawberry

from domain import members as rules
from domain.points.balance import EntryType as EntryTypeRule
from infra.items import MemberProfile
from infra.members import to_member
from infra.points.history import history, points_view
from resolvers.badges.types import MemberBadge, Streaks, member_badges, member_streaks
from resolvers.challenges.types import MemberChallenge, member_challenges
from resolvers.context import Info
from resolvers.leaderboards.types import LeaderboardPeriod, LeaderboardRank, MonthArg, leaderboard_rank
from resolvers.nodes import Node, node_type, read
from resolvers.tiers.types import MemberTier
from resolvers.posts.types import Post, UnboxingInvite, member_invites, member_posts
from resolvers.pagination import Connection, connection
from resolvers.partners.types import PartnerConsent, PartnerLookupRecord, member_consents, member_lookups
from resolvers.permissions import IsStaff
from resolvers.points.types import EntryType, ExpiringSoon, PointsEntry, Redemption, ReturnRate
from resolvers.vip_events.tickets import EventTicket, member_tickets


def _profile(info: Any, member_id: str) -> MemberProfile | None:
    """From the member's dashboard (one Query, once per request until a write forgets it)."""
    return next((i for i in info.context.member_card(member_id) if isinstance(i, MemberProfile)), None)


def _readable(info: Any, member_id: str) -> bool:
    """Members read themselves; any staff role reads members; nobody else does."""
    return info.context.principal.can_read_member(member_id)


def _load_summary(info: Any, member_id: str) -> "PointsSummary | None":
    profile = _profile(info, member_id)
    return PointsSummary.of(to_member(profile)) if profile else None


@node_type(load=_load_summary, may_ask=_readable)
@strawberry.type(description="A member's point balances. Points are whole numbers. Its `id` follows the member, so the "
                             "`member { points { ... } }` of any payload updates it in a client cache.")
class PointsSummary(Node):
    member_id: strawberry.Private[str]
    available: int = strawberry.field(description="Spendable now.")
    pending: int = strawberry.field(description="Earned, held until the order's return window closes.")
    lifetime: int = strawberry.field(description="Everything ever earned, before spending or expiry.")
    debt: int = strawberry.field(description="Reversed points that were already spent; later earnings repay it first.")

    def node_key(self) -> str:
        return self.member_id

    @strawberry.field(description="The next points to expire within the program's reminder horizon.")
    def expiring_soon(self, info: Info) -> ExpiringSoon | None:
        ctx = info.context
        view = points_view(ctx.member_card(self.member_id), ctx.programs.program(), ctx.now())
        return ExpiringSoon.of(view.expiring_soon) if view else None

    @classmethod
    def of(cls, m: rules.Member) -> "PointsSummary":
        return cls(member_id=m.id, available=m.points.available, pending=m.points.pending,
                   lifetime=m.points.lifetime, debt=m.points.debt)


def _load_member(info: Any, member_id: str) -> "Member | None":
    profile = _profile(info, member_id)
    return Member.of(to_member(profile)) if profile else None


@node_type(load=_load_member, may_ask=_readable)
@strawberry.type(description="A member of the loyalty program.")
class Member(Node):
    member_id: strawberry.ID = strawberry.field(
        description="The member's own id: the sign-in token's subject, as the order system knows it. Every argument "
                    "that takes a member takes this or `id`.")
    name: str
    email: str = strawberry.field(description="Contact address, as the member gave it.")
    email_verified: bool = strawberry.field(
        description="True when the sign-in token vouches for an email (its verified email claim) and it is bound to "
                    "this member: guest orders with that address are credited here.")
    birthday: date | None
    marketing_consent: bool
    locale: str | None = strawberry.field(description="The language for messages to the member (BCP 47), if given.")
    referral_code: str = strawberry.field(description="Share it: a friend who enrolls with it is referred by this member.")
    joined_at: datetime
    points: PointsSummary

    def node_key(self) -> str:
        return str(self.member_id)

    @strawberry.field(description="The member's tier: current (with benefits), next, progress, how long it is kept, "
                                  "history. Read from the member's dashboard: no extra call.")
    def tier(self, info: Info) -> MemberTier | None:
        return read(info, MemberTier, str(self.member_id))

    @strawberry.field(description="Points history, newest first; filter by entry type.")
    def points_history(self, info: Info, first: int | None = None, after: str | None = None,
                       types: list[EntryType] | None = None) -> Connection[PointsEntry]:
        tenant, wanted = info.context.require_tenant(), [EntryTypeRule(t.value) for t in types] if types else None
        member_id = str(self.member_id)
        return connection(info, first, after, lambda size, start: history(tenant, member_id, size, start, wanted),
                          PointsEntry.of, owner=member_id)

    @strawberry.field(description="Rewards redeemed, newest first, with their coupon codes.")
    def redemptions(self, info: Info, first: int | None = None, after: str | None = None) -> Connection[Redemption]:
        rewards, member_id = info.context.rewards, str(self.member_id)
        return connection(info, first, after, lambda size, start: rewards.member_coupons(member_id, size, start),
                          Redemption.of, owner=member_id)

    @strawberry.field(permission_classes=[IsStaff], description="Staff: the member's recent return rate.")
    def return_rate(self, info: Info) -> ReturnRate:
        r = info.context.orders.return_rate(str(self.member_id), info.context.now())
        return ReturnRate(orders=r.orders, returns=r.returns, rate=r.rate, window_days=r.window_days)

    @strawberry.field(description="Badges held (newest first) and visible badges in progress (closest first).")
    def badges(self, info: Info, first: int | None = None, after: str | None = None) -> Connection[MemberBadge]:
        return member_badges(info, str(self.member_id), first, after)

    @strawberry.field(description="Challenges running now and those taken part in, with progress.")
    def challenges(self, info: Info, first: int | None = None, after: str | None = None) -> Connection[MemberChallenge]:
        return member_challenges(info, str(self.member_id), first, after)

    @strawberry.field(description="VIP event tickets (registrations in every state), by event start; the check-in "
                                  "code of a confirmed seat only for the member themselves.")
    def event_tickets(self, info: Info, first: int | None = None, after: str | None = None) -> Connection[EventTicket]:
        return member_tickets(info, str(self.member_id), first, after)

    @strawberry.field(description="Purchase-month and activity-week streaks, in the program's time zone.")
    def streaks(self, info: Info) -> Streaks:
        return member_streaks(info, str(self.member_id))

    @strawberry.field(description="Where the member stands on a leaderboard (exact within the top 100, else "
                                  "approximate, saying how far off); null when they have not joined "
                                  "(`leaderboardJoin`) or have no qualifying points in the period.")
    def leaderboard_rank(self, info: Info, period: LeaderboardPeriod, month: MonthArg = None) -> LeaderboardRank | None:
        return leaderboard_rank(info, str(self.member_id), period, month)

    @strawberry.field(description="The member's posts, newest first, with their states, reasons and points.")
    def posts(self, info: Info, first: int | None = None, after: str | None = None) -> Connection[Post]:
        return member_posts(info, str(self.member_id), first, after)

    @strawberry.field(description="Delivered orders the member may post an unboxing about (open, no post yet), "
                                  "soonest closing first; at most 50.")
    def unboxing_invites(self, info: Info) -> list[UnboxingInvite]:
        return member_invites(info, str(self.member_id))

    @strawberry.field(description="The member's consents to partner brands, active and revoked.")
    def partner_consents(self, info: Info) -> list[PartnerConsent]:
        return member_consents(info, str(self.member_id))

    @strawberry.field(description="Every partner look-up of the member, newest first: who asked, when, for what, and "
                                  "whether they got an answer.")
    def partner_lookups(self, info: Info, first: int | None = None,
                        after: str | None = None) -> Connection[PartnerLookupRecord]:
        return member_lookups(info, str(self.member_id), first, after)

    @classmethod
    def of(cls, m: rules.Member) -> "Member":
        return cls(
            member_id=strawberry.ID(m.id), name=m.name, email=m.email, email_verified=m.verified_email is not None,
            birthday=m.birthday,
            marketing_consent=m.marketing_consent, referral_code=m.referral_code, locale=m.locale,
            joined_at=datetime.fromisoformat(m.joined_at),
            points=PointsSummary.of(m),
        )


MemberConnection = Connection[Member]
