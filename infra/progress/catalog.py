"""Badge and challenge definitions of a tenant, read once per cache period per container (with the
program's cache settings) and indexed in memory by the event types their criteria listen to: the
listener evaluates only the definitions an event can move, so hundreds of badges cost the same per
credit as none. One Query reads both kinds (`BADGE#` .. `CHALLENGE#~` of the program partition)."""
from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from decimal import Decimal

from domain.badges import criteria
from domain.badges import definitions as badge_rules
from domain.badges.definitions import Badge
from domain.challenges import definitions as challenge_rules
from domain.challenges.definitions import Challenge
from infra import keys
from infra.dynamo_errors import call
from infra.items import TableItem, read_partition
from infra.badges.items import BADGE_PREFIX, BadgeDefinition
from infra.challenges.items import CHALLENGE_PREFIX, ChallengeDefinition
from infra.points.program_store import ProgramStore
from infra.tenant_cache import TenantCache


@dataclass
class Catalog:
    badges: dict[str, tuple[Badge, int]] = field(default_factory=dict)  # id -> (definition, version)
    challenges: dict[str, tuple[Challenge, int]] = field(default_factory=dict)
    loaded_at: float = 0.0
    _badges_by_event: dict[str, list[Badge]] = field(default_factory=dict)
    _challenges_by_event: dict[str, list[Challenge]] = field(default_factory=dict)
    thresholds: dict[str, set[Decimal]] = field(default_factory=dict)  # track -> values criteria use

    def index(self) -> "Catalog":
        by_badge: dict[str, list[Badge]] = defaultdict(list)
        by_challenge: dict[str, list[Challenge]] = defaultdict(list)
        marks: dict[str, set[Decimal]] = defaultdict(set)
        for badge, _ in self.badges.values():
            if badge.criterion is not None:
                kind = criteria.of(badge.criterion)
                for t in kind.events:
                    by_badge[t].append(badge)
                track, value = kind.threshold(badge.criterion)
                marks[track].add(value)
        for challenge, _ in self.challenges.values():
            for t in criteria.of(challenge.criterion).events:
                by_challenge[t].append(challenge)
        self._badges_by_event, self._challenges_by_event, self.thresholds = dict(by_badge), dict(by_challenge), dict(marks)
        return self

    def badges_for(self, event_type: str) -> list[Badge]:
        return self._badges_by_event.get(event_type, [])

    def challenges_for(self, event_type: str) -> list[Challenge]:
        return self._challenges_by_event.get(event_type, [])

    def badge(self, badge_id: str) -> Badge | None:
        found = self.badges.get(badge_id)
        return found[0] if found else None

    def challenge(self, challenge_id: str) -> Challenge | None:
        found = self.challenges.get(challenge_id)
        return found[0] if found else None


_CATALOGS: TenantCache[Catalog] = TenantCache()


def catalog(programs: ProgramStore) -> Catalog:
    """The tenant's definitions, as cached in this container (at most the program cache's TTL old)."""
    return _CATALOGS.get(programs, lambda loaded_at: load(programs.tenant, loaded_at))


def invalidate(programs: ProgramStore) -> None:
    _CATALOGS.drop(programs)


def load(tenant: str, loaded_at: float = 0.0) -> Catalog:
    items = call(lambda: read_partition(keys.program_pk(tenant), TableItem.SK.between(BADGE_PREFIX, CHALLENGE_PREFIX + "~")),
                 what="badges and challenges")
    out = Catalog(loaded_at=loaded_at)
    for item in items:
        if isinstance(item, BadgeDefinition):
            b = badge_rules.from_dict(item.definition)
            out.badges[b.id] = (b, int(item.version))
        elif isinstance(item, ChallengeDefinition):
            c = challenge_rules.from_dict(item.definition)
            out.challenges[c.id] = (c, int(item.version))
    return out.index()
