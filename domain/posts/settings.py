"""The program's settings for members' posts: what approval is worth, how long points wait, caps,
auto-approval. Stored in the program (`Program.posts`), edited with `postSettingsSet`."""
from __future__ import annotations

from dataclasses import dataclass
from enum import Enum
from typing import Any

from domain.errors import ErrorCode, UserError, collect

MAX_POINTS = 1_000_000
MAX_DAYS = 365
MAX_CAP = 10_000
MAX_AUTO_POSTS = 1_000


class Period(Enum):
    """The period a cap counts in (the values of `domain.points.program.Period`, which imports this
    module: the program holds these settings)."""
    DAY = "DAY"
    WEEK = "WEEK"
    MONTH = "MONTH"
    YEAR = "YEAR"


class RemovalPolicy(Enum):
    CLAW_BACK = "CLAW_BACK"  # a removed post's points are taken back (debt for what was spent)
    KEEP = "KEEP"  # the member keeps what an approved post earned


@dataclass(frozen=True)
class PostSettings:
    enabled: bool = False
    points_per_post: int = 0
    unboxing_points: int = 0  # instead of points_per_post, for a post about a delivered order of theirs
    hold_days: int = 0  # > 0: approval credits the points as pending, released by the release job
    cap: int | None = None  # rewarded posts per member per period; None: no cap
    period: Period = Period.MONTH
    removal_policy: RemovalPolicy = RemovalPolicy.CLAW_BACK
    reward_id: str | None = None  # a catalog reward given as a gift coupon with each rewarded approval
    auto_approve_min_rank: int | None = None  # members at or above this tier rank are approved at once
    auto_approve_after_posts: int | None = None  # ... or with this many approved posts ...
    auto_approve_clean_days: int = 90  # ... and no rejection in these days
    unboxing_window_days: int = 30  # an unboxing invite stays open this long after delivery

    def to_dict(self) -> dict[str, Any]:
        return {"enabled": self.enabled, "pointsPerPost": self.points_per_post,
                "unboxingPoints": self.unboxing_points, "holdDays": self.hold_days, "cap": self.cap,
                "period": self.period.value, "removalPolicy": self.removal_policy.value, "rewardId": self.reward_id,
                "autoApproveMinRank": self.auto_approve_min_rank,
                "autoApproveAfterPosts": self.auto_approve_after_posts,
                "autoApproveCleanDays": self.auto_approve_clean_days,
                "unboxingWindowDays": self.unboxing_window_days}

    @classmethod
    def from_dict(cls, d: dict[str, Any] | None) -> "PostSettings":
        d = d or {}
        base = cls()

        def num(name: str, default: int | None) -> int | None:
            v = d.get(name, default)
            return None if v is None else int(v)

        return cls(enabled=bool(d.get("enabled", False)),
                   points_per_post=num("pointsPerPost", 0) or 0, unboxing_points=num("unboxingPoints", 0) or 0,
                   hold_days=num("holdDays", 0) or 0, cap=num("cap", None),
                   period=Period(d.get("period", base.period.value)),
                   removal_policy=RemovalPolicy(d.get("removalPolicy", base.removal_policy.value)),
                   reward_id=d.get("rewardId"), auto_approve_min_rank=num("autoApproveMinRank", None),
                   auto_approve_after_posts=num("autoApproveAfterPosts", None),
                   auto_approve_clean_days=num("autoApproveCleanDays", base.auto_approve_clean_days) or 0,
                   unboxing_window_days=num("unboxingWindowDays", base.unboxing_window_days) or 0)

    def points_for(self, unboxing: bool) -> int:
        return self.unboxing_points if unboxing else self.points_per_post


def _range(value: int | None, low: int, high: int, field: str, what: str) -> UserError | None:
    if value is not None and not low <= value <= high:
        return UserError(ErrorCode.OUT_OF_RANGE, f"{what} is from {low:,} to {high:,}.", field)
    return None


def validate(s: PostSettings) -> PostSettings:
    """Every problem at once (fields in GraphQL names)."""
    collect(
        _range(s.points_per_post, 0, MAX_POINTS, "pointsPerPost", "Points per post"),
        _range(s.unboxing_points, 0, MAX_POINTS, "unboxingPoints", "Unboxing points"),
        _range(s.hold_days, 0, MAX_DAYS, "holdDays", "Hold days"),
        _range(s.cap, 1, MAX_CAP, "cap", "The cap"),
        _range(s.auto_approve_min_rank, 0, 1_000, "autoApproveMinRank", "The tier rank"),
        _range(s.auto_approve_after_posts, 1, MAX_AUTO_POSTS, "autoApproveAfterPosts", "Approved posts"),
        _range(s.auto_approve_clean_days, 0, MAX_DAYS * 5, "autoApproveCleanDays", "Days without rejection"),
        _range(s.unboxing_window_days, 1, MAX_DAYS, "unboxingWindowDays", "The unboxing window"),
        UserError(ErrorCode.INVALID, "A reward id is 1-128 characters without spaces or '#'.", "rewardId")
        if s.reward_id is not None and (not s.reward_id or len(s.reward_id) > 128 or "#" in s.reward_id
                                        or s.reward_id != s.reward_id.strip()) else None,
    )
    return s
