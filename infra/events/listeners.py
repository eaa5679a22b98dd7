"""The registration list: every listener the processor calls, one import line per listener module.

A listener module registers its listener when imported (`infra.events.model.register(...)` at module
level); `register_all()` imports them. Python imports a module once, so calling `register_all()` again
(each Lambda container, `make run`, every test fixture) registers nothing twice.
"""
from __future__ import annotations

import importlib

# One line per listener module, e.g. "infra.tiers.listener". Order does not matter: each listener
# applies its own effects once, keyed by the event (docs/design.md, "How features hear about changes").
LISTENER_MODULES: tuple[str, ...] = (
    "infra.tiers.listener",
    "infra.progress.listener",
    "infra.leaderboards.listener",
    "infra.posts.listener",
    "infra.events_out.listener",
    "infra.lifecycle.listener",
)


def register_all() -> None:
    for module in LISTENER_MODULES:
        importlib.import_module(module)
