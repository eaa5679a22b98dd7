"""Who moderates posts: moderators and admins."""
from __future__ import annotations

from typing import Any

from domain.access import Role
from infra.posts.desk import Moderator
from resolvers.permissions import Requires


class IsModerator(Requires):
    def allowed(self, principal: Any) -> bool:
        return principal.is_staff(Role.MODERATOR)


def moderator(ctx: Any) -> Moderator:
    """The caller as a moderator: their subject and verified email, so they never decide on their own post."""
    p = ctx.principal
    return Moderator(actor=ctx.actor, subject=p.subject, verified_email=p.verified_email)
