"""challengeSave (admin): create a challenge, or change one: absent fields keep their values, null clears."""
from __future__ import annotations

from datetime import datetime, timezone

import strawberry

from domain import bounds
from domain.badges.criteria import Spec
from domain.challenges import definitions as rules
from domain.errors import ErrorCode, UserError
from infra.badges.store import BadgeStore
from infra.challenges.store import ChallengeStore
from resolvers.badges.types import CriterionInput
from resolvers.challenges.types import Challenge, describe_challenge
from resolvers.context import Info
from resolvers.errors import UserErrorType, payload_errors
from resolvers.nodes import key_for, read, unwrap
from resolvers.partial import apply, given, updatable
from resolvers.permissions import IsAdmin
from resolvers.scalars import bounded

REQUIRED_TO_CREATE = (("name", "name"), ("criterion", "criterion"), ("starts_at", "startsAt"), ("ends_at", "endsAt"))


@strawberry.input(description="A challenge to create or change. Creating one needs `name`, `criterion`, `startsAt` and "
                              "`endsAt`, and a reward (`rewardPoints`, `rewardBadge` or both). When changing one, a "
                              "field left out keeps its value and null clears it where the field says it can be "
                              "cleared.")
class ChallengeInput:
    id: strawberry.ID = bounded(bounds.REFERENCE, description="The challenge's own id, a slug such as `november-posts`.")
    name: str | None = updatable(clearable=False, bound=bounds.LABEL)
    description: str | None = updatable(clearable=True, bound=bounds.TEXT)
    image_url: str | None = updatable(clearable=True, bound=bounds.URL)
    criterion: CriterionInput | None = updatable(clearable=False, description="What to do inside the window.")
    starts_at: datetime | None = updatable(clearable=False, description="Events from then on count.")
    ends_at: datetime | None = updatable(clearable=False, description="Events before then count.")
    opt_in: bool | None = updatable(clearable=False, description="Members take part after `challengeJoin` (default "
                                                                 "false: everyone).")
    reward_points: int | None = updatable(clearable=False, description="Points credited once on completion (default 0).")
    reward_badge: strawberry.ID | None = updatable(clearable=True, bound=bounds.REFERENCE,
                                                   description="A badge awarded on completion.")


@strawberry.type(description="The challenge as saved.")
class ChallengeSavePayload:
    saved: strawberry.Private[str | None] = None
    user_errors: list[UserErrorType] = strawberry.field(default_factory=list)

    @strawberry.field(description="The challenge as saved; null when nothing was saved.")
    def challenge(self, info: Info) -> Challenge | None:
        return read(info, Challenge, self.saved) if self.saved else None


_PLACEHOLDER = datetime(2000, 1, 1, tzinfo=timezone.utc)


@payload_errors(ChallengeSavePayload)
def challenge_save(info: Info, input: ChallengeInput) -> ChallengeSavePayload:
    ctx = info.context
    slug = key_for(str(input.id), "Challenge", "id")
    store = ChallengeStore(ctx.require_tenant(), ctx.programs)
    existing = store.fresh(slug)
    badges = BadgeStore(ctx.require_tenant(), ctx.programs)
    if existing is None:
        base = rules.Challenge(id=slug, name="", criterion=Spec("PURCHASES", count=1), starts_at=_PLACEHOLDER,
                               ends_at=_PLACEHOLDER.replace(year=2001))
        missing = [UserError(ErrorCode.REQUIRED, f"A new challenge needs `{name}`.", name)
                   for attr, name in REQUIRED_TO_CREATE if not given(getattr(input, attr))]
    else:
        base, missing = existing[0], []
    challenge = apply(base, input, extra=missing, skip={"id"},
                      validate=lambda c: rules.validate(c, badge_exists=c.reward_badge is None
                                                        or badges.get(c.reward_badge) is not None),
                      convert={"name": str.strip, "criterion": lambda c: c.spec(),
                               "reward_badge": lambda b: unwrap(str(b), "Badge")},
                      cleared={"description": ""})
    store.save(challenge, ctx.actor, ctx.now(), existing=existing, describe=describe_challenge)
    return ChallengeSavePayload(saved=slug)


field = strawberry.mutation(resolver=challenge_save, permission_classes=[IsAdmin],
                            description="Admin: create or change a challenge. Audited with the fields' values before "
                                        "and after.")
