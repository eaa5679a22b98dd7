"""The progress listener: every event that can move a counter updates the member's counters, their
running challenges and the badges those complete, exactly once, in one transaction.

For an event it reads the member's dashboard (one Query: counters, challenge progress and badges held
are all in it), applies the event to the counters (domain/progress/counters.py) and to each running
challenge whose window holds the event, and evaluates only the badges and challenges whose criteria
listen to the event's type (the catalog's in-memory index). One transaction then writes:

- `once(tx, event, "progress")`: applied before means nothing to do;
- the counters, conditioned on the version read (or on not existing yet), and each challenge's
  progress likewise: two events of one member at once never lose a count; the second reads again;
- each badge now met and not held, each challenge now complete, and their points
  (infra/progress/rewards.py), every award conditioned on not existing.

A badge is awarded when its criterion is met and the member does not hold it, whichever listened event
finds that first (also one defined after the member qualified, if no backfill got there before); it is
dated by the event. An event meets at most MAX_AWARDS_PER_TRANSACTION new badges at once; any others
are met again by the next event of their kind. Refunds lower counters but never take a badge back.
"""
from __future__ import annotations

import logging
import random
import time
from datetime import datetime

from domain.badges import criteria
from domain.challenges.definitions import Challenge
from domain.points.balance import Balance
from domain.progress import counters as counting
from domain.progress.counters import Counters
from infra import keys
from infra.badges.items import BadgeAward
from infra.events.model import Env, Event, once, register
from infra.items import MemberProfile, read_partition
from infra.items.base import TableItem
from infra.dynamo_errors import RetryLater, call
from infra.points.ledger import MemberLedger, post
from infra.progress.catalog import Catalog, catalog
from infra.progress.items import CHALLENGE_PROGRESS_PREFIX, COUNTERS_SK, ChallengeProgress, ProgressCounters
from infra.progress.rewards import MAX_AWARDS_PER_TRANSACTION, Award, add_rewards
from infra.transaction import Transaction, TransactionCancelled

log = logging.getLogger("kizuna.progress")
NAME = "progress"
ATTEMPTS = 40  # concurrent events of one member each win a round: enough for dozens at once


class KeptChanging(Exception):
    """The member's progress changed under every attempt: the processor retries the batch."""


def card(tenant: str, member_id: str) -> list[TableItem]:
    return call(lambda: read_partition(keys.member_pk(tenant, member_id),
                                       TableItem.SK.between(keys.DASHBOARD_FROM, keys.DASHBOARD_TO)),
                what="member progress")


def counters_of(items: list[TableItem]) -> tuple[Counters, int | None]:
    item = next((i for i in items if isinstance(i, ProgressCounters)), None)
    return (Counters.from_dict(item.counters), int(item.version)) if item else (Counters(), None)


def held_of(items: list[TableItem]) -> dict[str, BadgeAward]:
    return {i.badge_id: i for i in items if isinstance(i, BadgeAward)}


def challenge_items(items: list[TableItem]) -> dict[str, ChallengeProgress]:
    return {i.challenge_id: i for i in items if isinstance(i, ChallengeProgress)}


def versioned_put(tx: Transaction, label: str, item: TableItem, version: int | None) -> None:
    model = type(item)
    tx.put(label, item, model.PK.does_not_exist() if version is None else model.version == version)  # type: ignore[attr-defined]


class ProgressListener:
    name = NAME
    event_types = counting.EVENT_TYPES

    def handle(self, event: Event, env: Env) -> None:
        store = env.programs(event.tenant)
        program = store.program()
        cat = catalog(store)
        for attempt in range(ATTEMPTS):
            if self._attempt(event, env, program, cat):
                return
            time.sleep(random.uniform(0, 0.02 * min(attempt + 1, 10)))
        raise KeptChanging(f"progress of {event.member_id} kept changing for event {event.event_id}")

    def _attempt(self, event: Event, env: Env, program, cat: Catalog) -> bool:
        """One read-decide-commit round; False when something it read changed meanwhile."""
        items = card(event.tenant, event.member_id)
        if not any(isinstance(i, MemberProfile) for i in items):
            return True  # no such member (any more): nothing to count
        tz = program.timezone
        at = event.occurred_at
        before, version = counters_of(items)
        after = counting.apply(before, event.type, event.detail, at, tz, cat.thresholds)
        held = held_of(items)
        awarded: dict[str, Award] = {}
        for badge in cat.badges_for(event.type):
            if badge.id in held or badge.criterion is None or not badge.available_at(at):
                continue
            if criteria.of(badge.criterion).met(after, badge.criterion):
                awarded[badge.id] = Award(badge, at, event.event_id)
        progress_writes: list[tuple[ChallengeProgress, int | None]] = []
        completed: list[Challenge] = []
        mine = challenge_items(items)
        for ch in cat.challenges_for(event.type):
            item = mine.get(ch.id)
            if item is not None and item.completed_at:
                continue
            joined = datetime.fromisoformat(item.joined_at) if item is not None and item.joined_at else None
            if not ch.counts(at, joined):
                continue
            old = Counters.from_dict(item.counters if item is not None else None)
            new = counting.apply(old, event.type, event.detail, at, tz)
            if new == old:
                continue
            done = criteria.of(ch.criterion).met(new, ch.criterion)
            fresh = ChallengeProgress(event.member_pk, f"{CHALLENGE_PROGRESS_PREFIX}{ch.id}", challenge_id=ch.id,
                                      counters=new.to_dict(), version=(int(item.version) if item else 0) + 1,
                                      joined_at=item.joined_at if item else None,
                                      completed_at=at.isoformat() if done else None,
                                      expires_at=int(ch.kept_until().timestamp()))
            progress_writes.append((fresh, int(item.version) if item else None))
            if done:
                completed.append(ch)
                badge = cat.badge(ch.reward_badge) if ch.reward_badge else None
                if badge is not None and badge.id not in held and badge.id not in awarded:
                    awarded[badge.id] = Award(badge, at, f"challenge:{ch.id}@{event.event_id}")
        if after == before and not progress_writes:
            return True  # nothing this listener keeps moved (a bonus credit, an event without a count)
        awards = list(awarded.values())[:MAX_AWARDS_PER_TRANSACTION]
        ledger = MemberLedger(event.tenant, event.member_id, env.now, program)

        def build(known: Balance) -> Transaction:
            tx = Transaction()
            once(tx, event, NAME, env.now_epoch)
            if after != before:
                versioned_put(tx, "counters", ProgressCounters(event.member_pk, COUNTERS_SK, counters=after.to_dict(),
                                                               version=(version or 0) + 1), version)
            for fresh, old_version in progress_writes:
                versioned_put(tx, f"challenge:{fresh.challenge_id}", fresh, old_version)
            add_rewards(tx, ledger, known, awards, completed)
            return tx

        try:
            post(build)
        except RetryLater:
            return False  # conflicting transactions of the same member (DynamoDB's own retries ran out)
        except TransactionCancelled as c:
            if c.failed_on("once"):
                return True  # applied before (a replay, or a twin delivery that won)
            return False  # counters, a challenge or a badge moved meanwhile: read again
        if awards or completed:
            log.info("progress %s: member %s awarded %s, completed %s", event.event_id, event.member_id,
                     [a.badge.id for a in awards], [c.id for c in completed])
        return True


LISTENER = register(ProgressListener())

