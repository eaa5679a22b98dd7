"""Inputs of VIP event mutations."""
from __future__ import annotations

from datetime import datetime

import strawberry

from domain import bounds
from domain.vip_events.model import CancellationPolicy
from resolvers.partial import updatable
from resolvers.scalars import bounded
from resolvers.vip_events.types import OfferMode


@strawberry.input(description="What a member's cancellation gets back (see VipCancellationPolicy).")
class VipCancellationPolicyInput:
    refund_until_hours: int = strawberry.field(description="Refunded up to this many hours before the start (0-8784).")
    refund_percent: int = strawberry.field(description="Of the points paid, 0-100.")

    def policy(self) -> CancellationPolicy:
        return CancellationPolicy(self.refund_until_hours, self.refund_percent)


@strawberry.input(description="A VIP event to create or change. Creating one needs `title`, `startsAt`, `endsAt`, "
                              "`capacity` and a `venue` or `onlineUrl`. When changing one, a field left out keeps its "
                              "value and null clears it where the field says it can be cleared. Every problem is "
                              "answered at once. The capacity never goes below the seats taken; a higher capacity "
                              "goes to the waitlist at once.")
class VipEventInput:
    id: strawberry.ID = bounded(bounds.REFERENCE, description="The event's own id, a slug such as `spring-atelier`: "
                                                              "saving it again changes that event.")
    title: str | None = updatable(clearable=False, bound=bounds.LABEL)
    description: str | None = updatable(clearable=True, bound=bounds.TEXT)
    venue: str | None = updatable(clearable=True, bound=bounds.TEXT, description="Where it takes place.")
    online_url: str | None = updatable(clearable=True, bound=bounds.URL, description="The link of an online event.")
    starts_at: datetime | None = updatable(clearable=False, description="An instant; shown on the program's clock.")
    ends_at: datetime | None = updatable(clearable=False)
    capacity: int | None = updatable(clearable=False, description="Seats, 1-100,000.")
    registration_opens_at: datetime | None = updatable(clearable=True, description="Null: open at once (EARLY_ACCESS "
                                                                                   "tiers enter that many hours "
                                                                                   "earlier).")
    registration_closes_at: datetime | None = updatable(clearable=True, description="Null: until the start.")
    min_tier_rank: int | None = updatable(clearable=True, description="Only members of a tier of this rank or higher.")
    invited_only: bool | None = updatable(clearable=False, description="Only invited members (default false).")
    points_cost: int | None = updatable(clearable=False, description="Charged when a seat is confirmed (default 0).")
    attendance_points: int | None = updatable(clearable=False, description="Credited at check-in (default 0).")
    badge_id: str | None = updatable(clearable=True, bound=bounds.IDENTIFIER, description="A badge awarded at "
                                                                                          "check-in.")
    cancellation_policy: VipCancellationPolicyInput | None = updatable(
        clearable=False, description="Copied onto each registration when it is made (default: 100% up to 24 h "
                                     "before the start).")
    offer_mode: OfferMode | None = updatable(clearable=False, description="Default CONFIRM.")  # type: ignore[valid-type]
    offer_hold_hours: int | None = updatable(clearable=False, description="Under HOLD (default 24).")
    public: bool | None = updatable(clearable=False, description="Listed to callers without a token (default false).")
