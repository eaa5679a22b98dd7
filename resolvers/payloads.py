"""What a mutation payload returns besides its own result: the objects the change touched, read after
it, so a client cache (normalised by `__typename` and `id`) is current without a refetch.

A payload inherits the mixin of each kind of object it changes and sets the key in its resolver:

    @strawberry.type
    class RewardRedeemPayload(ChangedMember, ChangedReward):
        redemption: Redemption | None = None
        ...
    return RewardRedeemPayload(redemption=..., changed_member=member_id, changed_reward=reward_id)

The write stays one transaction. Each object is read only when the client selects it, after the
write, under the same read rules as its own query fields (null where the caller may not read it):
a member costs one Query of their dashboard, a reward one GetItem of its item.
"""
from __future__ import annotations

import strawberry

from domain.points import program as program_rules
from resolvers.context import Info
from resolvers.members.types import Member
from resolvers.nodes import read
from resolvers.points.types import ProgramSummary, Reward, reward_now


@strawberry.type
class ChangedMember:
    changed_member: strawberry.Private[str | None] = None

    @strawberry.field(description="The member as this change left them (points included), read after it when selected "
                                  "(one Query); null when there is none or the caller may not read members.")
    def member(self, info: Info) -> Member | None:
        if self.changed_member is None:
            return None
        info.context.forget_member(self.changed_member)  # whatever this request read before the write is stale
        return read(info, Member, self.changed_member)


@strawberry.type
class ChangedReward:
    changed_reward: strawberry.Private[str | None] = None

    @strawberry.field(description="The reward as this change left it (stock left included), read after it when "
                                  "selected (one GetItem); null when the caller may not see it in the catalog.")
    def reward(self, info: Info) -> Reward | None:
        if self.changed_reward is None:
            return None
        return read(info, Reward, self.changed_reward, load=reward_now)


@strawberry.type
class ChangedProgram:
    changed_program: strawberry.Private[program_rules.Program | None] = None

    @strawberry.field(description="What a storefront now shows of the program (no read: the program as saved).")
    def program_summary(self, info: Info) -> ProgramSummary | None:
        if self.changed_program is None:
            return None
        return ProgramSummary.of(self.changed_program, info.context.now())
