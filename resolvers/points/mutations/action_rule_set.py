"""actionRuleSave / actionRuleRemove (admin): points for actions, one rule per action name.

`actionRuleSet` is the old name of `actionRuleSave` ("set" read as a noun as often as a verb; saves
are `...Save` here, as `rewardSave`); it stays for one release, deprecated."""
from __future__ import annotations

import strawberry

from resolvers.scalars import ActionArg
from resolvers.context import Info
from resolvers.errors import UserErrorType, payload_errors
from resolvers.payloads import ChangedProgram
from resolvers.permissions import IsAdmin
from resolvers.points.inputs import ActionRuleInput
from resolvers.points.types import Program, describe_program
from domain.points.program import check_action
from domain.errors import collect


@strawberry.type(description="The program as saved, and what a storefront now shows of it.")
class ActionRulePayload(ChangedProgram):
    program: Program | None = None
    user_errors: list[UserErrorType] = strawberry.field(default_factory=list)


@payload_errors(ActionRulePayload)
def action_rule_save(info: Info, input: ActionRuleInput) -> ActionRulePayload:
    ctx = info.context
    rule = input.to_domain()
    collect(check_action(rule))
    store = ctx.programs
    saved = store.save_program(store.program().with_action(rule), ctx.actor, ctx.now(), f"set rule {rule.action}",
                               describe=describe_program)
    return ActionRulePayload(program=Program.of(saved), changed_program=saved)


@payload_errors(ActionRulePayload)
def action_rule_remove(info: Info, action: ActionArg) -> ActionRulePayload:
    ctx = info.context
    store = ctx.programs
    store.program().action(action)  # NOT_FOUND when there is no such rule
    saved = store.save_program(store.program().without_action(action), ctx.actor, ctx.now(), f"remove rule {action}",
                               describe=describe_program)
    return ActionRulePayload(program=Program.of(saved), changed_program=saved)


SAVE = "Admin: create or replace the earn rule for an action."
save_field = strawberry.mutation(resolver=action_rule_save, permission_classes=[IsAdmin], description=SAVE)
set_field = strawberry.mutation(resolver=action_rule_save, permission_classes=[IsAdmin], description=SAVE,
                                deprecation_reason="Use `actionRuleSave` (same input, same payload).")
remove_field = strawberry.mutation(resolver=action_rule_remove, permission_classes=[IsAdmin],
                                   description="Admin: remove an action's earn rule.")
