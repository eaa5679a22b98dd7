"""SnapStart: what a copy restored from the snapshot must not share with the other copies.

With SnapStart, Lambda runs the init of a published version once, snapshots the memory, and starts every
later container of that version from the snapshot. Whatever init made random is then the same in all of
them, sockets opened at init belong to a machine that is gone, and caches and clocks are as old as the
snapshot (up to weeks). `register(services)`, called from api/lambda_handler.py's init, asks the runtime
to run `after_restore` in each restored copy; without SnapStart (locally, tests, the jobs) it never runs.

What init leaves behind, and what the hook does about it:
- ULIDs (infra/ids.py), coupon and referral codes (`secrets`), correlation ids (`uuid4`) read the kernel's
  generator at each call, which SnapStart reseeds: nothing to do. The `random` module's Mersenne Twister
  was seeded once at import (botocore's retry jitter and infra/transaction.py's backoff use it): reseeded,
  or every copy would retry in lockstep.
- botocore's pooled HTTP connections (DynamoDB, SSM): closed; each copy opens its own.
- verified tokens and JWKS key sets, with the monotonic timestamps they were cached at: forgotten.
- the program cache (monotonic timestamps too): forgotten.
- the SSM parameter cache: forgotten, and the settings read again (a secret rotated since the snapshot
  is used at once; a parameter deleted since fails the restore loudly, as it would fail an init).
- the cursor codec: rebuilt if the cursor key changed. Without a configured key, the random key init drew
  stays shared by the copies of one snapshot, which is harmless (cursors then work across them): AES-GCM
  stays safe under one key because every seal draws its nonce from os.urandom.
"""
from __future__ import annotations

import logging
import random
from typing import TYPE_CHECKING, Callable

from api import secrets
from api.auth import TokenVerifier
from api.settings import Settings
from infra.cursors import CursorCodec

if TYPE_CHECKING:
    from api.runtime import Services

log = logging.getLogger("kizuna.snapstart")


def register(services: Services, reload_settings: Callable[[], Settings] | None = None) -> None:
    """Run `after_restore(services, reload_settings)` in every copy restored from a SnapStart snapshot."""
    from snapshot_restore_py import register_after_restore
    register_after_restore(after_restore, services, reload_settings)


def after_restore(services: Services, reload_settings: Callable[[], Settings] | None = None) -> None:
    random.seed()  # from os.urandom, i.e. from the restored copy's own kernel generator
    secrets.close_connections(services.dynamodb)
    secrets.reset()
    if reload_settings is not None:
        fresh = reload_settings()
        if fresh.issuers != services.settings.issuers:
            log.info("issuers changed since the snapshot: token verifier rebuilt")
            services.verifier = TokenVerifier(fresh)
        if fresh.cursor_secret != services.settings.cursor_secret:
            log.info("cursor key changed since the snapshot: cursor codec rebuilt")
            services.cursors = CursorCodec(fresh.cursor_secret)
        services.settings = fresh
    services.verifier.clear_caches()
    programs = services.programs
    for tenant in list(getattr(programs, "_entries", {})):  # ProgramCache has no clear(); invalidate is public
        programs.invalidate(tenant)
