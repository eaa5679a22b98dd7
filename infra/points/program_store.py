"""Program configuration and rewards catalog storage, with a per-container cache."""
from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Callable

from domain.errors import ErrorCode, UserError
from domain.points import program as program_rules
from domain.points.program import DEFAULT_PROGRAM, ExpiryMode, Program
from domain.points.rewards import Reward, reward_from_dict, reward_to_dict
from infra import keys
from infra.audit import audit_entry
from infra.dynamo_errors import guarded
from infra.items import read_partition
from infra.jobs_state import MARKING_JOB, PASS_SK, MarkingPass
from infra.pages import Page, list_page
from infra.points.items import ProgramConfig, RewardItem
from infra.transaction import Transaction, TransactionCancelled

CONFIG_SK = "CONFIG"
REWARD_PREFIX = "REWARD#"


@dataclass(frozen=True)
class CachedReward:
    reward: Reward
    version: int
    stock_left: int | None = None  # the reward item's own counter (None: unlimited), as of the read

# How an audit entry describes a change, given what was and what is (None before a reward existed).
# The API passes one that names fields as the schema does; without one the storage form is recorded.
Describe = Callable[[Any, Any], dict[str, Any]]


@dataclass
class _Entry:
    program: Program
    version: int
    rewards: dict[str, CachedReward]
    loaded_at: float


class ProgramCache:
    """Configuration read at most once per `ttl` seconds per tenant and container. A change made in
    this container is seen at once; other containers see it within `ttl`. Redemptions still check
    the reward's live version, so a price change is never missed."""

    def __init__(self, ttl_seconds: float, clock: Callable[[], float] = time.monotonic):
        self.ttl = ttl_seconds
        self.clock = clock
        self._entries: dict[str, _Entry] = {}
        self._lock = threading.Lock()

    def get(self, tenant: str) -> _Entry:
        entry = self._entries.get(tenant)
        if entry is None or self.clock() - entry.loaded_at > self.ttl:
            entry = self._load(tenant)
            with self._lock:
                self._entries[tenant] = entry
        return entry

    def note(self, tenant: str, fresh: CachedReward) -> None:
        """A reward just read from its item: the cached copy takes its stock, if it is the same version,
        so this container's catalog never shows less recent stock than a payload already did."""
        with self._lock:
            entry = self._entries.get(tenant)
            cached = entry.rewards.get(fresh.reward.id) if entry else None
            if entry is not None and cached is not None and cached.version == fresh.version:
                entry.rewards[fresh.reward.id] = fresh

    def invalidate(self, tenant: str) -> None:
        with self._lock:
            self._entries.pop(tenant, None)

    def _load(self, tenant: str) -> _Entry:
        program, version, rewards = DEFAULT_PROGRAM, 0, {}
        for item in read_partition(keys.program_pk(tenant)):
            if isinstance(item, ProgramConfig) and item.SK == CONFIG_SK:
                program, version = program_rules.from_dict(item.config), int(item.version)
            elif isinstance(item, RewardItem):
                rewards[item.reward_id] = _cached(item)
        return _Entry(program, version, rewards, self.clock())


def marking_needed(before: Program, after: Program) -> bool:
    """Whether a program change moves members' inactivity dates: expiry switches to "after inactivity",
    or its months change under it."""
    return after.expiry_mode is ExpiryMode.AFTER_INACTIVITY and (
        before.expiry_mode is not ExpiryMode.AFTER_INACTIVITY or before.expiry_months != after.expiry_months)


class ProgramStore:
    def __init__(self, tenant: str, cache: ProgramCache):
        self.tenant = tenant
        self.cache = cache
        self.pk = keys.program_pk(tenant)

    def program(self) -> Program:
        return self.cache.get(self.tenant).program

    def rewards(self) -> list[Reward]:
        return sorted((c.reward for c in self.cache.get(self.tenant).rewards.values()),
                      key=lambda r: (r.points_cost, r.name))

    def reward(self, reward_id: str) -> CachedReward | None:
        return self.cache.get(self.tenant).rewards.get(reward_id)

    def fresh_reward(self, reward_id: str) -> CachedReward | None:
        self.cache.invalidate(self.tenant)
        return self.reward(reward_id)

    @guarded
    def reward_now(self, reward_id: str) -> CachedReward | None:
        """The reward as stored right now, its stock left included: one consistent GetItem of its item
        (what a payload shows after a redemption changed the stock; the cache may be seconds behind,
        and takes the fresh stock)."""
        try:
            fresh = _cached(RewardItem.get(self.pk, f"{REWARD_PREFIX}{reward_id}", consistent_read=True))
        except RewardItem.DoesNotExist:
            return None
        self.cache.note(self.tenant, fresh)
        return fresh

    def catalog_page(self, first: int, after: dict | None, shown: Callable[[Reward], bool]) -> Page[CachedReward]:
        """The cached catalog in the order it is shown (points cost, name, id), `first` rewards after
        the position `after` (as the previous page's cursor sealed it)."""
        return list_page([c for c in self.cache.get(self.tenant).rewards.values() if shown(c.reward)],
                         lambda c: [c.reward.points_cost, c.reward.name, c.reward.id], first, after)

    def save_program(self, program: Program, actor: str, now: datetime, reason: str | None = None, *,
                     describe: Describe | None = None, action: str = "program.update",
                     also: tuple[tuple[str, Any], ...] = ()) -> Program:
        """Store a new configuration (conditioned on the version read). `also`: (label, item) puts that
        must land with it, such as a job pass the change owes."""
        program_rules.validate(program)
        current = self.cache.get(self.tenant)
        tx = Transaction()
        item = ProgramConfig(self.pk, CONFIG_SK, config=program_rules.to_dict(program), version=current.version + 1,
                             updated_at=now.isoformat(), updated_by=actor)
        condition = ProgramConfig.PK.does_not_exist() if current.version == 0 else ProgramConfig.version == current.version
        tx.put("config", item, condition)
        detail = describe(current.program, program) if describe else program_rules.to_dict(program)
        tx.put("audit", audit_entry(self.tenant, actor, action, now, detail=detail, reason=reason))
        for label, extra in also:
            tx.put(label, extra)
        if marking_needed(current.program, program):
            # Members' due marks were written under the rule before (or none at all): the inactivity job
            # walks the members once to mark each by the new rule (infra/points/jobs.py). A pass not yet
            # finished is replaced, and the new one starts over.
            tx.put("marking", MarkingPass(keys.job_pk(self.tenant, MARKING_JOB), PASS_SK, since=now.isoformat()))
        try:
            tx.commit()
        except TransactionCancelled:
            self.cache.invalidate(self.tenant)
            raise UserError(ErrorCode.CONFLICT, "The program was changed meanwhile; reload and try again.") from None
        self.cache.invalidate(self.tenant)
        return program

    def save_reward(self, reward: Reward, actor: str, now: datetime, *, describe: Describe | None = None,
                    existing: CachedReward | None | bool = True) -> Reward:
        """Create or change a reward. Stock given here resets what is left. `existing` is the reward as
        the caller read it (`fresh_reward`), None when it read that there is none; by default it is read."""
        if existing is True:
            existing = self.fresh_reward(reward.id)
        assert existing is None or isinstance(existing, CachedReward)
        version = existing.version + 1 if existing else 1
        item = RewardItem(self.pk, f"{REWARD_PREFIX}{reward.id}", reward_id=reward.id,
                          definition=reward_to_dict(reward), status="ACTIVE" if reward.active else "INACTIVE",
                          version=version)
        tx = Transaction()
        if existing is None:
            item.stock_left = reward.stock_total
            item.redeemed = 0
            tx.put("reward", item, RewardItem.PK.does_not_exist())
        else:
            actions = [RewardItem.definition.set(reward_to_dict(reward)), RewardItem.status.set(item.status),
                       RewardItem.version.set(version)]
            if reward.stock_total != existing.reward.stock_total:
                actions.append(RewardItem.stock_left.set(reward.stock_total) if reward.stock_total is not None
                               else RewardItem.stock_left.remove())
            tx.update("reward", item, actions, RewardItem.version == existing.version)
        detail = describe(existing.reward if existing else None, reward) if describe else reward_to_dict(reward)
        tx.put("audit", audit_entry(self.tenant, actor, "reward.save", now, detail=detail))
        try:
            tx.commit()
        except TransactionCancelled:
            raise UserError(ErrorCode.CONFLICT, "The reward was changed meanwhile; try again.") from None
        finally:
            self.cache.invalidate(self.tenant)
        return reward


def _cached(item: RewardItem) -> CachedReward:
    return CachedReward(reward_from_dict(item.definition), int(item.version),
                        int(item.stock_left) if item.stock_left is not None else None)
