"""The brand's webhook endpoints: where events go, which types each one wants, and the secrets it is
signed with.

One partition per tenant, `T#<tenant>#WHOUT`, `EP#<id>` per endpoint: a tenant has a handful, so the
processor reads them all with one Query per event and keeps the ones that match. Secrets are kept as a
list of `{secret, until}`: the current one has no `until`; after a rotation the previous one stays
with `until` = the end of the overlap, and every delivery until then carries both signatures.
"""
from __future__ import annotations

from datetime import datetime, timedelta

from pynamodb.attributes import BooleanAttribute, JSONAttribute, UnicodeAttribute

from domain.errors import ErrorCode, UserError
from domain.events_out import signing
from domain.events_out.endpoints import MAX_ENDPOINTS, ROTATION_OVERLAP, Endpoint, rotated
from infra import keys
from infra.audit import audit_entry
from infra.dynamo_errors import call
from infra.ids import new_ulid
from infra.items.base import TableItem, read_partition
from infra.pages import Page, page, start_key
from infra.transaction import Transaction, TransactionCancelled

ENDPOINT_PREFIX = "EP#"


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


def to_endpoint(tenant: str, item: WebhookEndpointItem) -> Endpoint:
    return Endpoint(tenant, item.endpoint_id, item.url, tuple(item.event_types or ()), bool(item.enabled),
                    tuple(item.secrets or ()), item.description, item.created_at, item.updated_at)


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


def _not_found() -> UserError:
    return UserError(ErrorCode.NOT_FOUND, "There is no such webhook endpoint.", "id")


class EndpointDesk:
    """Staff changes to endpoints, each in one transaction with its audit entry. Secrets never reach the
    audit trail or any answer but the one that created them."""

    def __init__(self, tenant: str):
        self.tenant = tenant
        self.store = Endpoints(tenant)

    def list(self, first: int, after: dict | None) -> Page:
        """Oldest first (ids are ULIDs); an endpoint added during paging appears at the end."""
        start = start_key(after, self.store.pk)
        return call(lambda: page(WebhookEndpointItem.query(
            self.store.pk, WebhookEndpointItem.SK.startswith(ENDPOINT_PREFIX), limit=first + 1,
            last_evaluated_key=start, consistent_read=True), lambda i: to_endpoint(self.tenant, i),
            ("PK", "SK"), first), what="webhook endpoints")

    def create(self, url: str, event_types: tuple[str, ...], enabled: bool, description: str | None,
               actor: str, now: datetime) -> tuple[Endpoint, str]:
        if len(self.store.all()) >= MAX_ENDPOINTS:
            raise UserError(ErrorCode.LIMIT_REACHED, f"A program has at most {MAX_ENDPOINTS} webhook endpoints.",
                            "url")
        item, secret = self.store.new_item(url, event_types, enabled, description, now)
        tx = Transaction()
        tx.put("endpoint", item, WebhookEndpointItem.PK.does_not_exist())
        tx.put("audit", audit_entry(self.tenant, actor, "webhook_endpoint.create", now, detail={
            "endpointId": item.endpoint_id, "url": url, "eventTypes": list(event_types), "enabled": enabled}))
        tx.commit()
        return to_endpoint(self.tenant, item), secret

    def rotate_secret(self, endpoint_id: str, actor: str, now: datetime) -> tuple[Endpoint, str]:
        item = self.store.item(endpoint_id)
        if item is None:
            raise _not_found()
        before = item.updated_at
        item.secrets, secret = rotated(list(item.secrets or []), now)
        item.updated_at = now.isoformat()
        tx = Transaction()
        # On the version read: two rotations at once must not both keep "the previous" secret.
        tx.put("endpoint", item, WebhookEndpointItem.updated_at == before)
        tx.put("audit", audit_entry(self.tenant, actor, "webhook_endpoint.rotate_secret", now,
                                    detail={"endpointId": endpoint_id, "overlapHours": ROTATION_OVERLAP / timedelta(hours=1)}))
        try:
            tx.commit()
        except TransactionCancelled:
            raise UserError(ErrorCode.CONFLICT, "The endpoint was changed meanwhile; try again.", "id") from None
        return to_endpoint(self.tenant, item), secret

    def delete(self, endpoint_id: str, actor: str, now: datetime) -> Endpoint:
        item = self.store.item(endpoint_id)
        if item is None:
            raise _not_found()
        tx = Transaction()
        tx.delete("endpoint", item, WebhookEndpointItem.PK.exists())
        tx.put("audit", audit_entry(self.tenant, actor, "webhook_endpoint.delete", now,
                                    detail={"endpointId": endpoint_id, "url": item.url}))
        try:
            tx.commit()
        except TransactionCancelled:
            raise _not_found() from None
        return to_endpoint(self.tenant, item)
