"""vipEventSave (event staff, admins): create an event, or change one: absent fields keep their values, null
clears. Audited with the fields' values before and after. Raising the capacity gives the new seats to the
waitlist at once."""
from __future__ import annotations


import strawberry

from domain.errors import ErrorCode, UserError
from domain.vip_events import definition as rules
from domain.vip_events.model import VipEvent as VipEventRule
from infra.progress import catalog as badge_catalog
from infra.vip_events.catalog import EventCatalog, event_of
from resolvers.context import Info
from resolvers.errors import UserErrorType, payload_errors
from resolvers.nodes import key_for, read
from resolvers.partial import apply, given
from resolvers.vip_events.inputs import VipEventInput
from resolvers.vip_events.types import IsEventStaff, VipEvent, describe_event




@strawberry.type(description="The event as saved.")
class VipEventSavePayload:
    saved: strawberry.Private[str | None] = None
    user_errors: list[UserErrorType] = strawberry.field(default_factory=list)

    @strawberry.field(description="The event as saved; null when nothing was saved.")
    def vip_event(self, info: Info) -> VipEvent | None:
        return read(info, VipEvent, self.saved) if self.saved else None


@payload_errors(VipEventSavePayload)
def vip_event_save(info: Info, input: VipEventInput) -> VipEventSavePayload:
    ctx = info.context
    now = ctx.now()
    slug = key_for(str(input.id), "VipEvent", "id")
    catalog = EventCatalog(ctx.require_tenant(), ctx.programs)
    existing = catalog.item(slug)
    missing: list[UserError | None] = []
    if existing is None:
        base = VipEventRule(event_id=slug, title="", starts_at=now, ends_at=now, capacity=0)
        missing = [UserError(ErrorCode.REQUIRED, f"A new event needs `{name}`.", name)
                   for name in ("title", "startsAt", "endsAt", "capacity")
                   if not given(getattr(input, {"startsAt": "starts_at", "endsAt": "ends_at"}.get(name, name)))]
        if given(input.starts_at) and input.starts_at is not None and input.starts_at <= now:
            missing.append(UserError(ErrorCode.OUT_OF_RANGE, "A new event starts in the future.", "startsAt"))
    else:
        base = event_of(existing)
    program = ctx.programs.program()
    ladder = program.tiers.at(now)
    ranks = frozenset(t.rank for t in ladder.tiers) if ladder else None
    badges = badge_catalog.catalog(ctx.programs)

    def validate(e: VipEventRule) -> VipEventRule:
        return rules.validate(e, tier_ranks=ranks, badge_exists=e.badge_id is None or badges.badge(e.badge_id) is not None,
                              taken=int(existing.taken) if existing else 0)

    event = apply(base, input, extra=missing, validate=validate, skip={"id"},
                  target={"cancellation_policy": "cancellation"},
                  convert={"title": str.strip, "cancellation_policy": lambda p: p.policy(),
                           "venue": lambda v: v.strip() or None},
                  cleared={"description": ""})
    if existing is not None and event == base:
        return VipEventSavePayload(saved=slug)  # nothing changed: nothing written, nothing audited
    catalog.save(event, ctx.actor, now, existing=existing, describe=describe_event)
    if existing is not None and event.capacity > int(existing.capacity) and int(existing.waitlisted) > 0:
        ctx.vip_registrations.fill(slug, now)
    return VipEventSavePayload(saved=slug)


field = strawberry.mutation(resolver=vip_event_save, permission_classes=[IsEventStaff],
                            description="Event staff, admins: create or change a VIP event. Audited with the fields' "
                                        "values before and after. Cancelling an event is `vipEventCancel`.")


