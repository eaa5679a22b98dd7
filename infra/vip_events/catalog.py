"""VIP event definitions: saving them (staff, audited), the per-container list of upcoming events, and
the one read a screen of events costs.

The list of events that have not ended (definition and version) is read once per program cache period
per container (one Query of GSI1 `T#t#VIPEVENTS`, by start), like the badge catalog; the container that
saves an event drops its copy. It orders and pages the listing and gives a registration the definition
it assumes (conditioned on the stored `version`, so a stale copy is never acted on). What must be fresh
on a screen (seats, status, the member's own registration) comes from ONE BatchGetItem per page:
the page's EVENT items, and for a member their PROFILE (the tier), VIPSTATS (a no-show block), their
`REG#<member>` for each event and `INVITE#<member>` for each invitation-only one."""
from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import Any, Callable

from domain.errors import ErrorCode, UserError
from domain.vip_events import definition as rules
from domain.vip_events.model import EventStatus, VipEvent
from infra import keys
from infra.audit import audit_entry
from infra.dynamo_errors import call
from infra.items import MemberProfile, TableItem
from infra.items.batch import batch_get
from infra.points.program_store import ProgramStore
from infra.tenant_cache import TenantCache
from infra.transaction import Transaction, TransactionCancelled
from infra.vip_events.items import Invitation, MemberVipStats, RegistrationItem, VipEventItem

LOOKBACK = timedelta(days=rules.MAX_DAYS_LONG + 1)  # an event that has not ended started at most this long ago

Describe = Callable[[Any, Any], dict[str, Any]]


def event_of(item: VipEventItem) -> VipEvent:
    """The definition as stored, with the item's own status (cancelling sets it on the item)."""
    e = rules.from_dict(item.definition)
    return replace(e, status=EventStatus(item.status), capacity=int(item.capacity))


def event_from_raw(raw: dict[str, Any] | None) -> VipEventItem | None:
    """The EVENT item from a raw image (a failed condition's ALL_OLD)."""
    return TableItem.from_raw_data(raw) if raw else None  # type: ignore[return-value]


@dataclass(frozen=True)
class Listed:
    event: VipEvent
    version: int


@dataclass
class EventList:
    events: dict[str, Listed] = field(default_factory=dict)
    since: datetime | None = None  # events starting from then on are in the list
    loaded_at: float = 0.0

    def upcoming(self, now: datetime) -> list[Listed]:
        return [x for x in self.events.values() if x.event.ends_at > now]


_LISTS: TenantCache[EventList] = TenantCache()


def event_list(programs: ProgramStore, now: datetime) -> EventList:
    # A list read long ago may not reach back far enough for `now` (it holds events from `since` on).
    return _LISTS.get(programs, lambda loaded_at: load(programs.tenant, now, loaded_at),
                      lambda entry: not (entry.since and now - LOOKBACK < entry.since))


def invalidate(programs: ProgramStore) -> None:
    _LISTS.drop(programs)


def load(tenant: str, now: datetime, loaded_at: float = 0.0) -> EventList:
    since = now - LOOKBACK

    def read() -> list[VipEventItem]:
        return list(VipEventItem.lookup.query(keys.vip_events_list_pk(tenant),
                                              VipEventItem.GSI1SK >= since.isoformat()))

    out = EventList(since=since, loaded_at=loaded_at)
    for item in call(read, what="VIP events list"):
        if isinstance(item, VipEventItem):
            out.events[rules.from_dict(item.definition).event_id] = Listed(event_of(item), int(item.version))
    return out


def list_sk(e: VipEvent) -> str:
    return f"{e.starts_at.isoformat()}#{e.event_id}"


# -- one read per screen ----------------------------------------------------------------------------

@dataclass
class Screen:
    """What one BatchGetItem returned for a page of events and (optionally) one member."""

    events: dict[str, VipEventItem] = field(default_factory=dict)
    registrations: dict[str, RegistrationItem] = field(default_factory=dict)
    invited: set[str] = field(default_factory=set)
    profile: MemberProfile | None = None
    stats: MemberVipStats | None = None
    calls: int = 0


def screen(tenant: str, event_ids: list[str], member_id: str | None, invitation_for: set[str] = frozenset()) -> Screen:
    """The page's EVENT items and, for a member, their profile, no-show stats, registrations and the
    invitations of `invitation_for` (invitation-only events of the page): one request for a page."""
    wanted = [(keys.vip_event_pk(tenant, e), keys.VIP_EVENT_SK) for e in event_ids]
    if member_id is not None:
        mpk = keys.member_pk(tenant, member_id)
        wanted += [(mpk, keys.PROFILE), (mpk, keys.VIP_STATS_SK)]
        wanted += [(keys.vip_event_pk(tenant, e), keys.registration_sk(member_id)) for e in event_ids]
        wanted += [(keys.vip_event_pk(tenant, e), f"{keys.INVITATION_PREFIX}{member_id}")
                   for e in event_ids if e in invitation_for]
    out = Screen()
    if not wanted:
        return out
    items, out.calls = batch_get(wanted)
    for item in items:
        if isinstance(item, VipEventItem):
            out.events[rules.from_dict(item.definition).event_id] = item
        elif isinstance(item, RegistrationItem):
            out.registrations[item.event_id] = item
        elif isinstance(item, Invitation):
            out.invited.add(item.PK.rsplit("#VIPEVENT#", 1)[1])
        elif isinstance(item, MemberProfile):
            out.profile = item
        elif isinstance(item, MemberVipStats):
            out.stats = item
    return out


# -- staff: saving a definition ---------------------------------------------------------------------

class EventCatalog:
    def __init__(self, tenant: str, programs: ProgramStore):
        self.tenant = tenant
        self.programs = programs

    def listed(self, now: datetime) -> list[Listed]:
        return event_list(self.programs, now).upcoming(now)

    def known(self, event_id: str, now: datetime) -> Listed | None:
        """The definition this container holds (at most the cache period old), else a fresh read."""
        found = event_list(self.programs, now).events.get(event_id)
        if found is not None:
            return found
        item = self.item(event_id)
        return Listed(event_of(item), int(item.version)) if item else None

    def item(self, event_id: str) -> VipEventItem | None:
        def get() -> VipEventItem | None:
            try:
                return VipEventItem.get(keys.vip_event_pk(self.tenant, event_id), keys.VIP_EVENT_SK,
                                        consistent_read=True)
            except VipEventItem.DoesNotExist:
                return None
        return call(get, what="VIP event")

    def save(self, event: VipEvent, actor: str, now: datetime, *, existing: VipEventItem | None,
             describe: Describe | None = None) -> VipEvent:
        """Create (`existing` None) or replace a definition, audited with before and after. An edit is
        conditioned on the version read and on the seats taken staying within the new capacity."""
        pk = keys.vip_event_pk(self.tenant, event.event_id)
        before = event_of(existing) if existing else None
        tx = Transaction()
        E = VipEventItem
        gsi = dict(GSI1PK=keys.vip_events_list_pk(self.tenant), GSI1SK=list_sk(event),
                   GSI2PK=keys.due_pk(self.tenant, "VIPNOSHOW"), GSI2SK=f"{event.ends_at.isoformat()}#{event.event_id}")
        if existing is None:
            tx.put("event", E(pk, keys.VIP_EVENT_SK, definition=rules.to_dict(event), status=event.status.value,
                              capacity=event.capacity, created_at=now.isoformat(), version=1, **gsi),
                   E.PK.does_not_exist())
        else:
            actions = [E.definition.set(rules.to_dict(replace(event, status=EventStatus(existing.status)))),
                       E.capacity.set(event.capacity), E.version.add(1), E.updated_at.set(now.isoformat()),
                       E.GSI1SK.set(gsi["GSI1SK"])]
            if existing.GSI2PK:  # still due for the no-show job: it follows the new end
                actions.append(E.GSI2SK.set(gsi["GSI2SK"]))
            tx.update("event", E(pk, keys.VIP_EVENT_SK), actions,
                      (E.version == int(existing.version)) & (E.status == EventStatus.SCHEDULED.value)
                      & (E.taken <= event.capacity))
        detail = describe(before, event) if describe else rules.to_dict(event)
        tx.put("audit", audit_entry(self.tenant, actor, "vip_event.save", now, detail=detail))
        try:
            tx.commit()
        except TransactionCancelled as c:
            old = event_from_raw(c.old("event"))
            if existing is None:
                raise UserError(ErrorCode.CONFLICT, "An event with this id was just created; try again.", "id") from None
            if old is not None and old.status != EventStatus.SCHEDULED.value:
                raise UserError(ErrorCode.ALREADY_CANCELLED, "A cancelled event cannot be changed.", "id") from None
            if old is not None and int(old.version) == int(existing.version):
                raise UserError(ErrorCode.OUT_OF_RANGE, f"{int(old.taken)} seats are taken: the capacity cannot go "
                                                        "below that.", "capacity") from None
            raise UserError(ErrorCode.CONFLICT, "The event was changed meanwhile; try again.", "id") from None
        finally:
            invalidate(self.programs)
        return event
