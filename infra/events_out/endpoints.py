"""The brand's webhook endpoints: where events go, which types each one wants, and the secrets it is
signed with.

One partition per tenant, `T#<tenant>#WHOUT`, `EP#<id>` per endpoint: a tenant has a handful, so the
processor reads them all with one Query per event and keeps the ones that match. Secrets are kept as a
list of `{secret, until}`: the current one has no `until`; after a rotation the previous one stays
with `until` = the end of the overlap, and every delivery until then carries both signatures.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from pynamodb.attributes import BooleanAttribute, JSONAttribute, UnicodeAttribute

from domain.events_out import catalog, signing
from infra import keys
from infra.dynamo_errors import call
from infra.ids import new_ulid
from infra.items.base import TableItem, read_partition

ENDPOINT_PREFIX = "EP#"
ALL_TYPES = "*"
ROTATION_OVERLAP = timedelta(hours=24)  # long enough for a receiver to deploy the new secret
MAX_ENDPOINTS = 20  # per tenant: every event reads them all


def endpoints_pk(tenant: str) -> str:
    keys.check_tenant(tenant)
    return f"T#{tenant}#WHOUT"


class WebhookEndpointItem(TableItem, discriminator="webhook-endpoint"):
    endpoint_id = UnicodeAttribute(attr_name="endpointId")
    url = UnicodeAttribute()
    event_types = JSONAttribute(attr_name="eventTypes")  # public names, or ["*"] for all
    enabled = BooleanAttribute()
    secrets = JSONAttribute()  # [{"secret": "whsec_...", "until": iso | null}], newest first
    description = UnicodeAttribute(null=True)
    created_at = UnicodeAttribute(attr_name="createdAt")
    updated_at = UnicodeAttribute(attr_name="updatedAt")


@dataclass(frozen=True)
class Endpoint:
    tenant: str
    id: str
    url: str
    event_types: tuple[str, ...]
    enabled: bool
    secrets: tuple[dict[str, Any], ...]
    description: str | None
    created_at: str
    updated_at: str

    def wants(self, public_type: str) -> bool:
        return self.enabled and (ALL_TYPES in self.event_types or public_type in self.event_types)

    def active_secrets(self, now: datetime) -> list[str]:
        """The secrets a delivery at `now` is signed with: the current one and any still in its overlap."""
        return [s["secret"] for s in self.secrets if not s.get("until") or datetime.fromisoformat(s["until"]) > now]

    @property
    def all_types(self) -> bool:
        return ALL_TYPES in self.event_types


def to_endpoint(tenant: str, item: WebhookEndpointItem) -> Endpoint:
    return Endpoint(tenant, item.endpoint_id, item.url, tuple(item.event_types or ()), bool(item.enabled),
                    tuple(item.secrets or ()), item.description, item.created_at, item.updated_at)


def check_event_types(types: list[str] | None) -> tuple[str, ...]:
    """Public catalog names (deduplicated, in catalog order), or ("*",) for None/empty: all types."""
    if not types:
        return (ALL_TYPES,)
    known = list(catalog.PUBLIC.values())
    unknown = [t for t in types if t not in known]
    if unknown:
        raise ValueError(", ".join(sorted(set(unknown))))
    return tuple(t for t in known if t in set(types))


class Endpoints:
    def __init__(self, tenant: str):
        self.tenant = tenant
        self.pk = endpoints_pk(tenant)

    def item(self, endpoint_id: str) -> WebhookEndpointItem | None:
        try:
            return call(lambda: WebhookEndpointItem.get(self.pk, ENDPOINT_PREFIX + endpoint_id, consistent_read=True),
                        what="webhook endpoint")
        except WebhookEndpointItem.DoesNotExist:
            return None

    def get(self, endpoint_id: str) -> Endpoint | None:
        item = self.item(endpoint_id)
        return to_endpoint(self.tenant, item) if item else None

    def all(self) -> list[Endpoint]:
        items = call(lambda: read_partition(self.pk, TableItem.SK.startswith(ENDPOINT_PREFIX)),
                     what="webhook endpoints")
        return [to_endpoint(self.tenant, i) for i in items if isinstance(i, WebhookEndpointItem)]

    def matching(self, public_type: str) -> list[Endpoint]:
        return [e for e in self.all() if e.wants(public_type)]

    def new_item(self, url: str, event_types: tuple[str, ...], enabled: bool, description: str | None,
                 now: datetime) -> tuple[WebhookEndpointItem, str]:
        """A new endpoint's item (not saved) and its first secret, shown once."""
        endpoint_id, secret = new_ulid(), signing.new_secret()
        item = WebhookEndpointItem(self.pk, ENDPOINT_PREFIX + endpoint_id, endpoint_id=endpoint_id, url=url,
                                   event_types=list(event_types), enabled=enabled,
                                   secrets=[{"secret": secret, "until": None}], description=description,
                                   created_at=now.isoformat(), updated_at=now.isoformat())
        return item, secret


def rotated(secrets: list[dict[str, Any]], now: datetime, overlap: timedelta = ROTATION_OVERLAP) -> tuple[list, str]:
    """The secrets after a rotation at `now`: a new current one, the previous current one valid for
    `overlap`, older ones whose overlap ended dropped (at most two are ever active)."""
    new = signing.new_secret()
    until = (now + overlap).isoformat()
    kept = [{"secret": s["secret"], "until": until} for s in secrets if not s.get("until")]
    return [{"secret": new, "until": None}, *kept], new
