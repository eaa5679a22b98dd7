"""Definitions a tenant's staff write rarely and every request reads (the badge and challenge catalog,
the VIP events list), cached per container as long as the program cache keeps a program: its TTL and
clock, so one setting bounds how long an edit takes to reach every container. The container that saved
an edit drops its copy at once."""
from __future__ import annotations

import threading
import weakref
from typing import Callable, Generic, Protocol, TypeVar

from infra.points.program_store import ProgramCache, ProgramStore


class Loaded(Protocol):
    loaded_at: float  # the program cache's clock when it was read


T = TypeVar("T", bound=Loaded)


class TenantCache(Generic[T]):
    """One of these per kind of definition; inside it, one map per ProgramCache (per container, and per
    test services) of tenant -> what `load` read."""

    def __init__(self) -> None:
        self._maps: "weakref.WeakKeyDictionary[ProgramCache, dict[str, T]]" = weakref.WeakKeyDictionary()
        self._lock = threading.Lock()

    def _entries(self, cache: ProgramCache) -> dict[str, T]:
        with self._lock:
            found = self._maps.get(cache)
            if found is None:
                found = self._maps[cache] = {}
            return found

    def get(self, programs: ProgramStore, load: Callable[[float], T],
            still_covers: Callable[[T], bool] = lambda _entry: True) -> T:
        """The cached entry of `programs.tenant`, read again with `load(now on the cache's clock)` once it is
        older than the TTL, or when `still_covers` says it no longer holds what is asked for."""
        cache = programs.cache
        entries = self._entries(cache)
        entry = entries.get(programs.tenant)
        if entry is None or cache.clock() - entry.loaded_at > cache.ttl or not still_covers(entry):
            entry = load(cache.clock())
            with self._lock:
                entries[programs.tenant] = entry
        return entry

    def drop(self, programs: ProgramStore) -> None:
        entries = self._entries(programs.cache)
        with self._lock:
            entries.pop(programs.tenant, None)
