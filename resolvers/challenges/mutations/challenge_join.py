"""challengeJoin (member): take part in an opt-in challenge from now on."""
from __future__ import annotations

from typing import Annotated

import strawberry

from domain import bounds
from domain.errors import ErrorCode, UserError
from infra.challenges.store import ChallengeStore
from resolvers.challenges.types import MemberChallenge
from resolvers.context import Info
from resolvers.errors import UserErrorType, payload_errors
from resolvers.nodes import key_for
from resolvers.permissions import IsMember
from resolvers.scalars import bounded_arg


@strawberry.type(description="The member's part in the challenge after joining.")
class ChallengeJoinPayload:
    progress: MemberChallenge | None = None
    user_errors: list[UserErrorType] = strawberry.field(default_factory=list)


@payload_errors(ChallengeJoinPayload)
def challenge_join(info: Info, challenge_id: Annotated[strawberry.ID, bounded_arg(bounds.REFERENCE)]
                   ) -> ChallengeJoinPayload:
    ctx = info.context
    key = key_for(str(challenge_id), "Challenge", "challengeId")
    store = ChallengeStore(ctx.require_tenant(), ctx.programs)
    challenge = store.get(key)
    if challenge is None or (not ctx.principal.is_staff() and ctx.now() >= challenge.ends_at):
        raise UserError(ErrorCode.NOT_FOUND, "No such challenge.", "challengeId")
    member_id = ctx.principal.member_id
    assert member_id is not None
    item = store.join(member_id, challenge, ctx.now())
    ctx.forget_member(member_id)
    return ChallengeJoinPayload(progress=MemberChallenge.of(challenge, item))


field = strawberry.mutation(resolver=challenge_join, permission_classes=[IsMember],
                            description="Member: take part in an opt-in challenge; events from now on count. Joining "
                                        "again changes nothing.")
