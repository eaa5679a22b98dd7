"""Saving badge definitions (staff, audited). A new badge, or one whose criterion or availability
changed, also owes a backfill: the same transaction adds it to the pass the backfill job walks
(`T#t#JOB#badge-backfill / PASS`), so members who already qualify get it (infra/badges/jobs.py)."""
from __future__ import annotations

from datetime import datetime
from typing import Any, Callable

from domain.badges import definitions as rules
from domain.badges.definitions import Badge
from domain.errors import ErrorCode, UserError
from infra import keys
from infra.audit import audit_entry
from infra.badges.items import BACKFILL_JOB, BADGE_PREFIX, PASS_SK, BadgeDefinition, BadgePass
from infra.points.program_store import ProgramStore
from infra.progress import catalog as catalogs
from infra.transaction import Transaction, TransactionCancelled

Describe = Callable[[Any, Any], dict[str, Any]]


class BadgeStore:
    def __init__(self, tenant: str, programs: ProgramStore):
        self.tenant = tenant
        self.programs = programs

    def all(self) -> list[Badge]:
        return [b for b, _ in catalogs.catalog(self.programs).badges.values()]

    def get(self, badge_id: str) -> Badge | None:
        return catalogs.catalog(self.programs).badge(badge_id)

    def fresh(self, badge_id: str) -> tuple[Badge, int] | None:
        catalogs.invalidate(self.programs)
        return catalogs.catalog(self.programs).badges.get(badge_id)

    def save(self, badge: Badge, actor: str, now: datetime, *, existing: tuple[Badge, int] | None,
             describe: Describe | None = None) -> Badge:
        rules.validate(badge)
        pk = keys.program_pk(self.tenant)
        tx = Transaction()
        item = BadgeDefinition(pk, f"{BADGE_PREFIX}{badge.id}", definition=rules.to_dict(badge),
                               version=existing[1] + 1 if existing else 1)
        tx.put("badge", item, BadgeDefinition.PK.does_not_exist() if existing is None
               else BadgeDefinition.version == existing[1])
        before = existing[0] if existing else None
        detail = describe(before, badge) if describe else rules.to_dict(badge)
        tx.put("audit", audit_entry(self.tenant, actor, "badge.save", now, detail=detail))
        if rules.needs_backfill(before, badge):
            P = BadgePass
            tx.update("pass", BadgePass(keys.job_pk(self.tenant, BACKFILL_JOB), PASS_SK),
                      [P.kind.set(BadgePass), P.badges.add({badge.id}), P.since.set(now.isoformat()),
                       P.retry.set(False)])
        try:
            tx.commit()
        except TransactionCancelled:
            raise UserError(ErrorCode.CONFLICT, "The badge was changed meanwhile; try again.", "id") from None
        finally:
            catalogs.invalidate(self.programs)
        return badge
