"""The audit trail: who changed what, when and why. Written in the same transaction as the change."""
from __future__ import annotations

from datetime import datetime
from typing import Any

from infra import keys
from infra.dynamo_errors import call, guarded
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
        start = start_key(after, pk)
        return call(lambda: page(AuditEntry.query(pk, limit=first + 1, last_evaluated_key=start,
                                                  scan_index_forward=False, consistent_read=True),
                                 lambda e: e, ("PK", "SK"), first), what="audit trail")

    @guarded
    def get(self, entry_id: str) -> AuditEntry | None:
        """One entry by its sort key (`<time>#<ulid>`): a GetItem."""
        try:
            return AuditEntry.get(keys.audit_pk(self.tenant), entry_id, consistent_read=True)
        except AuditEntry.DoesNotExist:
            return None
