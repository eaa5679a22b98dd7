"""badgeSave (admin): create a badge, or change one: absent fields keep their values, null clears."""
from __future__ import annotations

from datetime import datetime

import strawberry

from domain import bounds
from domain.badges import definitions as rules
from domain.errors import ErrorCode, UserError
from infra.badges.store import BadgeStore
from resolvers.badges.types import Badge, CriterionInput, describe_badge
from resolvers.context import Info
from resolvers.errors import UserErrorType, payload_errors
from resolvers.nodes import key_for, read
from resolvers.partial import apply, given, updatable
from resolvers.permissions import IsAdmin
from resolvers.scalars import bounded


@strawberry.input(description="A badge to create or change. Creating one needs `name`. When changing one, a field left "
                              "out keeps its value and null clears it where the field says it can be cleared. A new "
                              "badge, or a new criterion or availability, is also given to members who already "
                              "qualify, by the `badges` job (dated when each qualified).")
class BadgeInput:
    id: strawberry.ID = bounded(bounds.REFERENCE, description="The badge's own id, a slug such as `first-order`: saving "
                                                              "it again changes that badge.")
    name: str | None = updatable(clearable=False, bound=bounds.LABEL)
    description: str | None = updatable(clearable=True, bound=bounds.TEXT)
    image_url: str | None = updatable(clearable=True, bound=bounds.URL, description="The badge's image.")
    criterion: CriterionInput | None = updatable(clearable=True, description="What earns it. Null: only a challenge "
                                                                              "that names it awards it.")
    bonus_points: int | None = updatable(clearable=False, description="Points credited once when earned (default 0).")
    secret: bool | None = updatable(clearable=False, description="Shown only to members who hold it (default false).")
    available_from: datetime | None = updatable(clearable=True, description="Earned only from then on.")
    available_until: datetime | None = updatable(clearable=True, description="Earned only before then.")


@strawberry.type(description="The badge as saved.")
class BadgeSavePayload:
    saved: strawberry.Private[str | None] = None
    user_errors: list[UserErrorType] = strawberry.field(default_factory=list)

    @strawberry.field(description="The badge as saved; null when nothing was saved.")
    def badge(self, info: Info) -> Badge | None:
        return read(info, Badge, self.saved) if self.saved else None


@payload_errors(BadgeSavePayload)
def badge_save(info: Info, input: BadgeInput) -> BadgeSavePayload:
    ctx = info.context
    slug = key_for(str(input.id), "Badge", "id")
    store = BadgeStore(ctx.require_tenant(), ctx.programs)
    existing = store.fresh(slug)
    if existing is None:
        base = rules.Badge(id=slug, name="", criterion=None)
        missing = [] if given(input.name) else [UserError(ErrorCode.REQUIRED, "A new badge needs `name`.", "name")]
    else:
        base, missing = existing[0], []
    badge = apply(base, input, extra=missing, validate=rules.validate, skip={"id"},
                  convert={"name": str.strip, "criterion": lambda c: c.spec()}, cleared={"description": ""})
    store.save(badge, ctx.actor, ctx.now(), existing=existing, describe=describe_badge)
    return BadgeSavePayload(saved=slug)


field = strawberry.mutation(resolver=badge_save, permission_classes=[IsAdmin],
                            description="Admin: create or change a badge. Audited with the fields' values before and "
                                        "after.")
