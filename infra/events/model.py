"""What a listener receives and how it says what it listens to.

An outbox event (`~OUT#<ulid>` in the member's partition, written in the transaction of the change
it tells about) comes out of the table's stream as an `Event`. The processor hands it to every
registered listener whose `event_types` name its type, and only to those: a program with hundreds of
badges costs the same per credit as one with none, for every other kind of change.

A listener must be safe to run again for the same event (the stream delivers at least once, and a
processor stopped mid-batch repeats the batch). Two ways, both keyed by the cause:
- state-based: what it writes follows from what it reads now (a board entry that mirrors the
  profile's qualification), conditioned on the version it read;
- effect-based: the writes go in one transaction with `once(tx, event, listener)`, a put of
  `~FX#<event>#<listener>` that exists only if the effect was applied before.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Callable, Protocol

from infra import keys

EFFECT_PREFIX = "~FX#"  # after PROG#~: outside the dashboard range
EFFECT_TTL_SECONDS = 3 * 24 * 3600  # the stream keeps records 24 h: a mark outlives every replay


@dataclass(frozen=True)
class Event:
    tenant: str
    member_id: str
    event_id: str  # the outbox item's ULID: the cause every effect is keyed by
    type: str  # "points.earned", "points.reversed", "tier.changed", ...
    occurred_at: datetime
    detail: dict[str, Any] = field(default_factory=dict)

    @property
    def member_pk(self) -> str:
        return keys.member_pk(self.tenant, self.member_id)


class Listener(Protocol):
    name: str  # stable: part of every effect mark's key
    event_types: frozenset[str]

    def handle(self, event: Event, env: "Env") -> None:
        """Apply this event's effects once. Raise on a fault: the batch is retried, effects already
        applied are recognised by their marks."""


@dataclass(frozen=True)
class Env:
    """What a listener may use: the processing time, the tenant's program (cached per container) and the
    container's way out for published events."""

    now: datetime
    programs: Callable[[str], Any]  # tenant -> infra.points.program_store.ProgramStore
    outlet: Any = None  # infra.events_out.outlet.Outlet: where published events go (None: webhooks, production rules)

    @property
    def now_epoch(self) -> int:
        return int(self.now.timestamp())


_LISTENERS: list[Listener] = []


def register(listener: Listener) -> Listener:
    """Add a listener (once per name); the registration list is `infra/events/listeners.py`.

    The same listener class registering again (its module imported a second time, e.g. reloaded)
    takes the place of the first; another listener under a taken name is an error."""
    for i, x in enumerate(_LISTENERS):
        if x.name == listener.name:
            if _origin(x) != _origin(listener):
                raise ValueError(f"a listener named {listener.name!r} is registered already")
            _LISTENERS[i] = listener
            return listener
    _LISTENERS.append(listener)
    return listener


def _origin(listener: Listener) -> tuple[str, str]:
    cls = type(listener)
    return cls.__module__, cls.__qualname__


def listeners_for(event_type: str) -> list[Listener]:
    return [x for x in _LISTENERS if event_type in x.event_types]


def registered() -> list[Listener]:
    return list(_LISTENERS)


def effect_sk(event: Event, listener: str) -> str:
    return f"{EFFECT_PREFIX}{event.event_id}#{listener}"


def once(tx: Any, event: Event, listener: str, now_epoch: int) -> None:
    """Add the effect mark to `tx` (label "once"): the transaction lands only if this listener has not
    applied this event before. On `TransactionCancelled` with `failed_on("once")`: already applied."""
    from infra.events.items import EffectMark  # late: items import the table models
    tx.put("once", EffectMark(event.member_pk, effect_sk(event, listener), listener=listener,
                              expires_at=now_epoch + EFFECT_TTL_SECONDS), EffectMark.PK.does_not_exist())


