"""Criterion kinds, by name. A new kind is one file in this folder and one line below (README,
"Badges, challenges and streaks"). Badges and challenges share them: one way to count things."""
from __future__ import annotations

from domain.badges.criteria import (approved_posts, categories_bought, custom_activity, first_purchase,
                                    profile_completed, purchase_streak_months, purchases, spend_total,
                                    successful_referrals, tier_reached, vip_events_attended)
from domain.badges.criteria.base import Criterion, Spec
from domain.errors import ErrorCode, UserError

KINDS: dict[str, Criterion] = {}


def register(criterion: Criterion) -> Criterion:
    assert criterion.kind not in KINDS, f"{criterion.kind} is registered twice"
    KINDS[criterion.kind] = criterion
    return criterion


register(first_purchase.CRITERION)
register(purchases.CRITERION)
register(spend_total.CRITERION)
register(approved_posts.CRITERION)
register(vip_events_attended.CRITERION)
register(purchase_streak_months.CRITERION)
register(profile_completed.CRITERION)
register(successful_referrals.CRITERION)
register(custom_activity.CRITERION)
register(tier_reached.CRITERION)
register(categories_bought.CRITERION)


def of(spec: Spec) -> Criterion:
    return KINDS[spec.kind]


def check(spec: Spec, path: str = "criterion") -> list[UserError]:
    """Every problem with a criterion as defined: an unknown kind, or its parameters."""
    if spec.kind not in KINDS:
        return [UserError(ErrorCode.INVALID, f"Unknown criterion kind; one of {', '.join(KINDS)}.", f"{path}.kind")]
    return KINDS[spec.kind].check(spec, path)


__all__ = ["KINDS", "Criterion", "Spec", "check", "of", "register"]
