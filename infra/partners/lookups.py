"""A partner's one call, `partnerMemberStatus`, and the record of every look-up.

Every registered partner's look-up takes the same five calls whatever the outcome, so neither the answer
nor its timing tells a consenting member from anyone else:
  1. GetItem of the client claim (the partner, its scopes, rate and status: infra/partners/registry.py);
  2. UpdateItem of its rate window (infra/partners/rate_limit.py): over the limit, RateLimited;
  3. GetItem of the reference (a linked id's or an email hash's link; a malformed one reads a key that
     never exists);
  4. BatchGetItem of the member's profile and lifecycle standing (or of keys that never exist);
  5. PutItem of the look-up's record: in the member's partition when the reference named a member
     (`~PLOOKUP#<ulid>`, the member sees it in `me.partnerLookups`), else in the partner's.
The answer is `domain.partners.consent.answer`: the requested fields the link covers, or None.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Callable

from pynamodb.attributes import BooleanAttribute, JSONAttribute, UnicodeAttribute

from domain.partners import member_ref
from domain.partners.consent import Consent, Purpose, Status, answer
from domain.partners.registry import (KEEP_MEMBER_LOOKUPS_DAYS, KEEP_PARTNER_LOOKUPS_DAYS, MEMBER_STATUS_SCOPE,
                                     RATE_WINDOW_SECONDS, Partner)
from infra import keys
from infra.dynamo_errors import call
from infra.ids import new_ulid
from domain.lifecycle.lapse import Standing
from infra.items import MemberProfile
from infra.items.batch import batch_get
from infra.lifecycle.standing import STANDING_SK, StandingItem
from infra.items.base import TableItem
from infra.pages import Page, page, start_key
from infra.partners.consents import LINK_SK, MemberLink, email_link_pk, email_link_sk, link_pk
from infra.partners.rate_limit import RateLimit
from infra.partners.registry import PartnerRegistry

LOOKUP_PREFIX = "~PLOOKUP#"
PARTNER_LOOKUP_PREFIX = "LOOKUP#"
KEEP_MEMBER_RECORDS = timedelta(days=KEEP_MEMBER_LOOKUPS_DAYS)
KEEP_PARTNER_RECORDS = timedelta(days=KEEP_PARTNER_LOOKUPS_DAYS)
NOWHERE = "~none"  # a member id no member has: the read a non-member's look-up makes instead


class RateLimited(Exception):
    def __init__(self, retry_after_seconds: int):
        super().__init__(f"rate limited; retry after {retry_after_seconds} s")
        self.retry_after_seconds = retry_after_seconds


class LookupRecord(TableItem, discriminator="partner-lookup"):
    partner_id = UnicodeAttribute(attr_name="partnerId")
    partner_name = UnicodeAttribute(attr_name="partnerName")
    at = UnicodeAttribute()
    fields = JSONAttribute()  # what was asked for
    answered = BooleanAttribute()  # whether anything was returned
    by = UnicodeAttribute()  # LINKED_ID, EMAIL_SHA256 or NONE (malformed)


@dataclass(frozen=True)
class Lookup:
    id: str
    partner_id: str
    partner_name: str
    at: datetime
    fields: tuple[str, ...]
    answered: bool


def to_lookup(item: LookupRecord) -> Lookup:
    return Lookup(item.SK.removeprefix(LOOKUP_PREFIX), item.partner_id, item.partner_name,
                  datetime.fromisoformat(item.at), tuple(item.fields or ()), bool(item.answered))


def _get(model: type[TableItem], pk: str, sk: str, what: str) -> Any:
    try:
        return call(lambda: model.get(pk, sk, consistent_read=True), what=what)
    except model.DoesNotExist:
        return None


class PartnerLookups:
    def __init__(self, tenant: str, member_since: Callable[[str], str]):
        """`member_since`: a profile's joinedAt -> the local join day (the program's time zone)."""
        self.tenant = tenant
        self.member_since = member_since
        self.registry = PartnerRegistry(tenant)

    def status(self, client_id: str, linked_id: str | None,
               email_sha256: str | None, fields: tuple[str, ...], now: datetime) -> dict[str, Any] | None:
        partner = self.registry.by_client(client_id)
        if partner is None:
            return None  # not a partner of this brand at all: nothing to count or record
        decision = RateLimit(self.tenant, partner.id, partner.rate_limit_per_minute, RATE_WINDOW_SECONDS).take(now)
        if not decision.allowed:
            raise RateLimited(decision.retry_after_seconds)
        ref = member_ref.parse(linked_id, email_sha256)
        link = self._link(ref, partner)
        member_id = link.member_id if link is not None else None
        mpk = keys.member_pk(self.tenant, member_id or NOWHERE)
        found, _ = batch_get([(mpk, keys.PROFILE), (mpk, STANDING_SK)], what="partner look-up")
        profile = next((i for i in found if isinstance(i, MemberProfile)), None)
        standing = next((i for i in found if isinstance(i, StandingItem)), None)
        consent = None
        if link is not None:
            consent = Consent(partner.id, Purpose(link.purpose), tuple(link.fields), now, "")
        status = None
        if profile is not None:
            # The lifecycle's standing: LAPSED once the lapse job marked them, ACTIVE otherwise.
            status = Status(tier=profile.tier_announced or profile.tier,
                            status=standing.standing if standing is not None else Standing.ACTIVE.value,
                            member_since=self.member_since(profile.joined_at))
        allowed = partner.may(MEMBER_STATUS_SCOPE)
        result = answer(consent, fields, status, partner_active=allowed)
        self._record(partner, member_id if profile is not None else None, fields, result is not None,
                     "NONE" if ref is None else "LINKED_ID" if ref.linked_id else "EMAIL_SHA256", now)
        return result

    def _link(self, ref: member_ref.MemberRef | None, partner: Partner) -> MemberLink | None:
        if ref is not None and ref.linked_id:
            link = _get(MemberLink, link_pk(self.tenant, ref.linked_id), LINK_SK, "partner link")
            return link if link is not None and link.partner_id == partner.id else None
        digest = ref.email_sha256 if ref is not None and ref.email_sha256 else NOWHERE
        return _get(MemberLink, email_link_pk(self.tenant, digest), email_link_sk(partner.id), "partner link")

    def _record(self, partner: Partner, member_id: str | None, fields: tuple[str, ...], answered: bool, by: str,
                now: datetime) -> None:
        ulid = new_ulid(int(now.timestamp() * 1000))
        if member_id is not None:
            pk, sk, keep = keys.member_pk(self.tenant, member_id), LOOKUP_PREFIX + ulid, KEEP_MEMBER_RECORDS
        else:
            pk, sk, keep = keys.partner_pk(self.tenant, partner.id), PARTNER_LOOKUP_PREFIX + ulid, KEEP_PARTNER_RECORDS
        record = LookupRecord(pk, sk, partner_id=partner.id, partner_name=partner.name, at=now.isoformat(),
                              fields=list(fields), answered=answered, by=by,
                              expires_at=int((now + keep).timestamp()))
        call(lambda: record.save(), what="partner look-up record")

    def one(self, member_id: str, lookup_id: str) -> Lookup | None:
        item = _get(LookupRecord, keys.member_pk(self.tenant, member_id), LOOKUP_PREFIX + lookup_id, "look-up")
        return to_lookup(item) if item is not None else None

    def of_member(self, member_id: str, first: int, after: dict | None) -> Page:
        """The look-ups of a member, newest first."""
        pk = keys.member_pk(self.tenant, member_id)
        start = start_key(after, pk)
        return call(lambda: page(LookupRecord.query(pk, LookupRecord.SK.startswith(LOOKUP_PREFIX), limit=first + 1,
                                                    last_evaluated_key=start, scan_index_forward=False,
                                                    consistent_read=True), to_lookup, ("PK", "SK"), first),
                    what="partner look-ups")
