"""A member's consents to partner brands, as stored, and the references partners look members up by.

- `T#t#M#<m>` / `~PARTNER#CONSENT#<p>`: the consent (partner, purpose, fields, linked id, given and
  revoked times, version); outside the dashboard. `me.partnerConsents` reads them with one Query.
- `T#t#PLINK#<linked id>` / `LINK`: member, partner, purpose and fields, while the consent is active;
  a look-up by linked id is one GetItem of it.
- `T#t#PEMAIL#<sha256 of the verified email>` / `P#<partner>`: the same, for a look-up by email hash;
  written only when the member has a verified email, and only for that partner.

A grant writes the consent, its references and the audit entry in one transaction; a revocation marks the
consent revoked and deletes its references in one transaction, so the next look-up finds nothing, and a
later grant mints a new linked id (what a partner saw before cannot be joined to what it sees after).
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from pynamodb.attributes import JSONAttribute, NumberAttribute, UnicodeAttribute

from domain.errors import ErrorCode, UserError
from domain.partners.consent import Consent, Purpose
from domain.partners.member_ref import email_hash, new_linked_id
from domain.partners.registry import Partner
from infra import keys
from infra.audit import audit_entry
from infra.dynamo_errors import call
from infra.items import MemberProfile, read_partition
from infra.items.base import TableItem
from infra.transaction import Transaction, TransactionCancelled

CONSENT_PREFIX = "~PARTNER#CONSENT#"
LINK_SK = "LINK"


def link_pk(tenant: str, linked_id: str) -> str:
    keys.check_tenant(tenant)
    return f"T#{tenant}#PLINK#{linked_id}"


def email_link_pk(tenant: str, digest: str) -> str:
    keys.check_tenant(tenant)
    return f"T#{tenant}#PEMAIL#{digest}"


def email_link_sk(partner_id: str) -> str:
    return f"P#{partner_id}"


class ConsentItem(TableItem, discriminator="partner-consent"):
    partner_id = UnicodeAttribute(attr_name="partnerId")
    partner_name = UnicodeAttribute(attr_name="partnerName")
    purpose = UnicodeAttribute()
    fields = JSONAttribute()
    linked_id = UnicodeAttribute(attr_name="linkedId")
    email_digest = UnicodeAttribute(null=True, attr_name="emailDigest")  # where its email reference is
    granted_at = UnicodeAttribute(attr_name="grantedAt")
    revoked_at = UnicodeAttribute(null=True, attr_name="revokedAt")
    version = NumberAttribute(default=1)


class MemberLink(TableItem, discriminator="partner-link"):
    """A reference a partner may look a consenting member up by (a linked id or an email hash)."""

    member_id = UnicodeAttribute(attr_name="memberId")
    partner_id = UnicodeAttribute(attr_name="partnerId")
    purpose = UnicodeAttribute()
    fields = JSONAttribute()


@dataclass(frozen=True)
class StoredConsent:
    consent: Consent
    partner_name: str


def to_consent(item: ConsentItem) -> StoredConsent:
    return StoredConsent(Consent(item.partner_id, Purpose(item.purpose), tuple(item.fields or ()),
                                 datetime.fromisoformat(item.granted_at), item.linked_id,
                                 datetime.fromisoformat(item.revoked_at) if item.revoked_at else None),
                         item.partner_name)


class Consents:
    def __init__(self, tenant: str):
        self.tenant = tenant

    def _item(self, member_id: str, partner_id: str) -> ConsentItem | None:
        try:
            return call(lambda: ConsentItem.get(keys.member_pk(self.tenant, member_id), CONSENT_PREFIX + partner_id,
                                                consistent_read=True), what="partner consent")
        except ConsentItem.DoesNotExist:
            return None

    def get(self, member_id: str, partner_id: str) -> StoredConsent | None:
        item = self._item(member_id, partner_id)
        return to_consent(item) if item is not None else None

    def of_member(self, member_id: str) -> list[StoredConsent]:
        items = call(lambda: read_partition(keys.member_pk(self.tenant, member_id),
                                            TableItem.SK.startswith(CONSENT_PREFIX)), what="partner consents")
        return [to_consent(i) for i in items if isinstance(i, ConsentItem)]

    def grant(self, member_id: str, partner: Partner, purpose: Purpose, fields: tuple[str, ...], actor: str,
              now: datetime) -> StoredConsent:
        """Give (or change) the member's consent to `partner`: an active consent keeps its linked id and
        takes the new purpose and fields; otherwise a new linked id is minted."""
        pk = keys.member_pk(self.tenant, member_id)
        try:
            profile = call(lambda: MemberProfile.get(pk, keys.PROFILE, consistent_read=True), what="member profile")
        except MemberProfile.DoesNotExist:
            raise UserError(ErrorCode.NOT_ENROLLED, "Enroll before sharing your status with partners.") from None
        before = self._item(member_id, partner.id)
        active = before is not None and before.revoked_at is None
        linked = before.linked_id if active and before is not None else new_linked_id()
        digest = email_hash(profile.verified_email) if profile.verified_email else None
        item = ConsentItem(pk, CONSENT_PREFIX + partner.id, partner_id=partner.id, partner_name=partner.name,
                           purpose=purpose.value, fields=list(fields), linked_id=linked, email_digest=digest,
                           granted_at=before.granted_at if active and before is not None else now.isoformat(),
                           version=(int(before.version or 1) + 1) if before is not None else 1)
        tx = Transaction()
        condition = ConsentItem.PK.does_not_exist() if before is None else ConsentItem.version == before.version
        tx.put("consent", item, condition)
        link = dict(member_id=member_id, partner_id=partner.id, purpose=purpose.value, fields=list(fields))
        tx.put("link", MemberLink(link_pk(self.tenant, linked), LINK_SK, **link))
        if active and before is not None and before.email_digest and before.email_digest != digest:
            tx.delete("old-email", MemberLink(email_link_pk(self.tenant, before.email_digest),
                                              email_link_sk(partner.id)))
        if digest:
            tx.put("email", MemberLink(email_link_pk(self.tenant, digest), email_link_sk(partner.id), **link))
        tx.put("audit", audit_entry(self.tenant, actor, "partner_consent.grant", now, member_id=member_id, detail={
            "partnerId": partner.id, "purpose": purpose.value, "fields": list(fields)}))
        try:
            tx.commit()
        except TransactionCancelled:
            raise UserError(ErrorCode.CONFLICT, "Your consent was changed meanwhile; try again.", "partnerId") from None
        return to_consent(item)

    def revoke(self, member_id: str, partner_id: str, actor: str, now: datetime) -> StoredConsent:
        item = self._item(member_id, partner_id)
        if item is None or item.revoked_at is not None:
            raise UserError(ErrorCode.NOT_FOUND, "You have no consent to this partner to revoke.", "partnerId")
        version = int(item.version or 1)
        tx = Transaction()
        tx.update("consent", item, [ConsentItem.revoked_at.set(now.isoformat()), ConsentItem.version.set(version + 1)],
                  ConsentItem.version == version)
        tx.delete("link", MemberLink(link_pk(self.tenant, item.linked_id), LINK_SK))
        if item.email_digest:
            tx.delete("email", MemberLink(email_link_pk(self.tenant, item.email_digest), email_link_sk(partner_id)))
        tx.put("audit", audit_entry(self.tenant, actor, "partner_consent.revoke", now, member_id=member_id,
                                    detail={"partnerId": partner_id}))
        try:
            tx.commit()
        except TransactionCancelled:
            raise UserError(ErrorCode.CONFLICT, "Your consent was changed meanwhile; try again.", "partnerId") from None
        item.revoked_at, item.version = now.isoformat(), version + 1
        return to_consent(item)
