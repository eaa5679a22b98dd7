"""postSettingsSet (admin): what posts earn and how they are moderated; every problem at once, audited."""
from __future__ import annotations

from dataclasses import replace

import strawberry

from domain import bounds
from domain.errors import ErrorCode, UserError
from domain.posts.settings import Period, RemovalPolicy, validate
from resolvers.context import Info
from resolvers.errors import UserErrorType, payload_errors
from resolvers.partial import apply, updatable
from resolvers.permissions import IsAdmin
from resolvers.posts.types import PostCapPeriod, PostRemovalPolicy, PostSettingsView
from resolvers.scalars import OptionalTextArg


@strawberry.input(description="Post settings to change; fields left out keep their value.")
class PostSettingsInput:
    enabled: bool | None = updatable(clearable=False)
    points_per_post: int | None = updatable(clearable=False, description="0 to 1,000,000.")
    unboxing_points: int | None = updatable(clearable=False, description="For a post about a delivered order.")
    hold_days: int | None = updatable(clearable=False, description="0 to 365; 0: available at once.")
    cap: int | None = updatable(clearable=True, description="Rewarded posts per member per period, 1 to 10,000.")
    period: PostCapPeriod | None = updatable(clearable=False)  # type: ignore[valid-type]
    removal_policy: PostRemovalPolicy | None = updatable(clearable=False)  # type: ignore[valid-type]
    reward_id: str | None = updatable(clearable=True, bound=bounds.IDENTIFIER,
                                      description="A catalog reward given as a gift coupon.")
    auto_approve_min_rank: int | None = updatable(clearable=True, description="Members at or above this tier rank.")
    auto_approve_after_posts: int | None = updatable(clearable=True, description="Members with this many approved "
                                                                                  "posts and no recent rejection.")
    auto_approve_clean_days: int | None = updatable(clearable=False, description="Days without a rejection.")
    unboxing_window_days: int | None = updatable(clearable=False, description="1 to 365.")


@strawberry.type(description="The post settings as saved.")
class PostSettingsSetPayload:
    settings: PostSettingsView | None = None
    user_errors: list[UserErrorType] = strawberry.field(default_factory=list)


@payload_errors(PostSettingsSetPayload)
def post_settings_set(info: Info, input: PostSettingsInput, reason: OptionalTextArg = None) -> PostSettingsSetPayload:
    ctx = info.context
    program = ctx.programs.program()
    wanted = getattr(input, "reward_id", None)
    missing = (UserError(ErrorCode.NOT_FOUND, "No such reward in the catalog.", "rewardId")
               if isinstance(wanted, str) and ctx.programs.reward(wanted) is None else None)
    settings = apply(program.posts, input, extra=[missing], validate=validate,
                     convert={"period": lambda p: Period(p.value), "removal_policy": lambda p: RemovalPolicy(p.value)})
    ctx.programs.save_program(replace(program, posts=settings), ctx.actor, ctx.now(), reason,
                              action="posts.settings_set",
                              describe=lambda before, after: {"before": before.posts.to_dict(),
                                                              "after": after.posts.to_dict()})
    return PostSettingsSetPayload(settings=PostSettingsView.of(settings))


field = strawberry.mutation(resolver=post_settings_set, permission_classes=[IsAdmin],
                            description="Admins: change what members' posts earn and how they are moderated.")
