"""The audit trail: who changed what, when and why. Written in the same transaction as the change."""
from __future__ import annotations

from datetime import datetime
from typing import Any

from infra import keys
from infra.ids import new_ulid
from infra.pages import Page, page, start_key
from infra.points.items import AuditEntry


def audit_entry(tenant: str, actor: str, action: str, now: datetime, *, member_id: str | None = None,
                detail: dict[str, Any] | None = None, reason: str | None = None) -> AuditEntry:
    return AuditEntry(keys.audit_pk(tenant), f"{now.isoformat()}#{new_ulid(int(now.timestamp() * 1000))}",
                      actor=actor, action=action, member_id=member_id, detail=detail or {}, reason=reason,
                      at=now.isoformat())


class AuditTrail:
    def __init__(self, tenant: str):
        self.tenant = tenant

    def list(self, first: int, after: dict | None) -> Page:
        pk = keys.audit_pk(self.tenant)
        result = AuditEntry.query(pk, limit=first + 1, last_evaluated_key=start_key(after, pk),
                                  scan_index_forward=False)
        return page(result, lambda e: e, ("PK", "SK"), first)
