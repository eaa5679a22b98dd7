"""Partner brands as stored: `T#t#PARTNER#<p>` / `PARTNER` (listed by GSI1 `T#t#PARTNERS` / `<p>`), and the
client claim `T#t#PARTNERCLIENT#<client id>` / `CLIENT`, a copy of the registration keyed by what a
partner's token carries, so a look-up finds its partner, scopes, rate and status with one GetItem. Both
written in one transaction, the claim `attribute_not_exists` (one partner per client id); a suspension
updates both, conditioned on the version read.
"""
from __future__ import annotations

from datetime import datetime

from pynamodb.attributes import JSONAttribute, NumberAttribute, UnicodeAttribute

from domain import bounds
from domain.errors import ErrorCode, UserError, UserErrors
from domain.partners.registry import MAX_PARTNERS, Partner, PartnerStatus
from infra import keys
from infra.audit import audit_entry
from infra.dynamo_errors import call
from infra.items.base import TableItem
from infra.pages import Page, page, start_key
from infra.transaction import Transaction, TransactionCancelled

PARTNER_SK = "PARTNER"
CLIENT_SK = "CLIENT"


def partners_list_pk(tenant: str) -> str:
    keys.check_tenant(tenant)
    return f"T#{tenant}#PARTNERS"


def client_pk(tenant: str, client_id: str) -> str:
    keys.check_tenant(tenant)
    return f"T#{tenant}#PARTNERCLIENT#{client_id}"


class _PartnerFields:
    partner_id = UnicodeAttribute(attr_name="partnerId")
    name = UnicodeAttribute()
    client_id = UnicodeAttribute(attr_name="clientId")
    scopes = JSONAttribute()
    rate_limit = NumberAttribute(attr_name="rateLimitPerMinute")
    status = UnicodeAttribute()
    registered_at = UnicodeAttribute(attr_name="registeredAt")
    updated_at = UnicodeAttribute(attr_name="updatedAt")
    version = NumberAttribute(default=1)


class PartnerItem(_PartnerFields, TableItem, discriminator="partner"):
    pass


class PartnerClientClaim(_PartnerFields, TableItem, discriminator="partner-client"):
    pass


def to_partner(item: _PartnerFields) -> Partner:
    return Partner(item.partner_id, item.name, item.client_id, tuple(item.scopes or ()), int(item.rate_limit),
                   PartnerStatus(item.status), item.registered_at, item.updated_at)


def _fields(p: Partner, version: int) -> dict:
    return dict(partner_id=p.id, name=p.name, client_id=p.client_id, scopes=list(p.scopes),
                rate_limit=p.rate_limit_per_minute, status=p.status.value, registered_at=p.registered_at,
                updated_at=p.updated_at, version=version)


class PartnerRegistry:
    def __init__(self, tenant: str):
        self.tenant = tenant

    def get(self, partner_id: str) -> Partner | None:
        try:
            return to_partner(call(lambda: PartnerItem.get(keys.partner_pk(self.tenant, partner_id), PARTNER_SK,
                                                           consistent_read=True), what="partner"))
        except PartnerItem.DoesNotExist:
            return None

    def by_client(self, client_id: str) -> Partner | None:
        """The partner a token's client id names (one GetItem, consistent: a suspension holds from the next
        look-up), or None; a client id that could not be registered names nobody."""
        if isinstance(bounds.IDENTIFIER.check(client_id), UserError):
            return None
        try:
            return to_partner(call(lambda: PartnerClientClaim.get(client_pk(self.tenant, client_id), CLIENT_SK,
                                                                  consistent_read=True), what="partner client"))
        except PartnerClientClaim.DoesNotExist:
            return None

    def list(self, first: int, after: dict | None) -> Page:
        pk = partners_list_pk(self.tenant)
        start = start_key(after, pk, "GSI1PK")
        return call(lambda: page(PartnerItem.lookup.query(pk, None, limit=first + 1, last_evaluated_key=start),
                                 to_partner, ("PK", "SK", "GSI1PK", "GSI1SK"), first), what="partners")

    def count(self) -> int:
        pk = partners_list_pk(self.tenant)
        return call(lambda: sum(1 for _ in PartnerItem.lookup.query(pk, None, limit=MAX_PARTNERS + 1)),
                    what="partners")

    def register(self, partner: Partner, actor: str, now: datetime) -> Partner:
        problems = []
        if self.get(partner.id) is not None:
            problems.append(UserError(ErrorCode.CONFLICT, "A partner with this id is registered already.", "id"))
        if self.by_client(partner.client_id) is not None:
            problems.append(UserError(ErrorCode.CONFLICT, "Another partner has this client id.", "clientId"))
        if not problems and self.count() >= MAX_PARTNERS:
            problems.append(UserError(ErrorCode.LIMIT_REACHED, f"A program has at most {MAX_PARTNERS} partners.", "id"))
        if problems:
            raise UserErrors(problems)
        item = PartnerItem(keys.partner_pk(self.tenant, partner.id), PARTNER_SK, **_fields(partner, 1))
        item.GSI1PK, item.GSI1SK = partners_list_pk(self.tenant), partner.id
        claim = PartnerClientClaim(client_pk(self.tenant, partner.client_id), CLIENT_SK, **_fields(partner, 1))
        tx = Transaction()
        tx.put("partner", item, PartnerItem.PK.does_not_exist())
        tx.put("client", claim, PartnerClientClaim.PK.does_not_exist())
        tx.put("audit", audit_entry(self.tenant, actor, "partner.register", now, detail={
            "partnerId": partner.id, "name": partner.name, "clientId": partner.client_id,
            "scopes": list(partner.scopes), "rateLimitPerMinute": partner.rate_limit_per_minute}))
        try:
            tx.commit()
        except TransactionCancelled as c:
            field = "clientId" if c.failed_on("client") else "id"
            raise UserError(ErrorCode.CONFLICT, "Registered meanwhile by another request.", field) from None
        return partner

    def set_status(self, partner_id: str, status: PartnerStatus, actor: str, now: datetime) -> Partner:
        try:
            item = call(lambda: PartnerItem.get(keys.partner_pk(self.tenant, partner_id), PARTNER_SK,
                                                consistent_read=True), what="partner")
        except PartnerItem.DoesNotExist:
            raise UserError(ErrorCode.NOT_FOUND, "There is no such partner.", "id") from None
        version = int(item.version or 1)
        actions = [PartnerItem.status.set(status.value), PartnerItem.updated_at.set(now.isoformat()),
                   PartnerItem.version.set(version + 1)]
        tx = Transaction()
        tx.update("partner", item, actions, PartnerItem.version == version)
        claim = PartnerClientClaim(client_pk(self.tenant, item.client_id), CLIENT_SK)
        tx.update("client", claim, [PartnerClientClaim.status.set(status.value),
                                    PartnerClientClaim.updated_at.set(now.isoformat()),
                                    PartnerClientClaim.version.set(version + 1)], PartnerClientClaim.PK.exists())
        action = "partner.suspend" if status is PartnerStatus.SUSPENDED else "partner.reinstate"
        tx.put("audit", audit_entry(self.tenant, actor, action, now, detail={"partnerId": partner_id}))
        try:
            tx.commit()
        except TransactionCancelled:
            raise UserError(ErrorCode.CONFLICT, "The partner was changed meanwhile; try again.", "id") from None
        item.status, item.updated_at, item.version = status.value, now.isoformat(), version + 1
        return to_partner(item)
