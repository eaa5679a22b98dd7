"""What the API shows of partner brands: their registration (admin), a member's consents and who looked
them up (the member and staff), and the one answer a partner gets."""
from __future__ import annotations

from datetime import datetime
from typing import Any

import strawberry

from domain.access import Role
from domain.partners import consent as consent_rules
from domain.partners.registry import Partner as PartnerRule
from domain.partners.registry import PartnerStatus
from infra.partners.consents import Consents, StoredConsent
from infra.partners.lookups import Lookup, PartnerLookups
from infra.partners.registry import PartnerRegistry
from resolvers.context import Info
from resolvers.nodes import Node, node_type, plain_key
from resolvers.pagination import Connection, connection

PartnerPurpose = strawberry.enum(consent_rules.Purpose, description="What a member's status is shared for.")


PartnerState = strawberry.enum(PartnerStatus, name="PartnerState", description="Whether a partner's look-ups are answered.")


def _load_partner(info: Any, key: str) -> "Partner | None":
    found = PartnerRegistry(info.context.require_tenant()).get(key)
    return Partner.of(found) if found else None


@node_type(load=_load_partner, may_ask=lambda info, key: info.context.principal.is_staff(Role.ADMIN),
           valid_key=plain_key)
@strawberry.type(description="A partner brand that may ask a consenting member's tier.")
class Partner(Node):
    partner_id: strawberry.ID
    name: str
    client_id: str = strawberry.field(description="The `client_id` claim of the partner's client-credentials tokens.")
    scopes: list[str]
    rate_limit_per_minute: int
    status: PartnerState
    registered_at: datetime
    updated_at: datetime

    def node_key(self) -> str:
        return str(self.partner_id)

    @classmethod
    def of(cls, p: PartnerRule) -> "Partner":
        return cls(partner_id=strawberry.ID(p.id), name=p.name, client_id=p.client_id, scopes=list(p.scopes),
                   rate_limit_per_minute=p.rate_limit_per_minute, status=p.status,
                   registered_at=datetime.fromisoformat(p.registered_at),
                   updated_at=datetime.fromisoformat(p.updated_at))


def _member_key(key: str) -> tuple[str, str] | None:
    """`<member id>|<partner id or look-up id>`: split at the last `|` (member ids may hold one)."""
    member_id, sep, rest = key.rpartition("|")
    return (member_id, rest) if sep and member_id and rest else None


def _may_read_member_key(info: Any, key: str) -> bool:
    parts = _member_key(key)
    return parts is not None and info.context.principal.can_read_member(parts[0])


def _load_consent(info: Any, key: str) -> "PartnerConsent | None":
    member_id, partner_id = _member_key(key) or ("", "")
    found = Consents(info.context.require_tenant()).get(member_id, partner_id) if member_id else None
    return PartnerConsent.of(member_id, found) if found else None


@node_type(load=_load_consent, may_ask=_may_read_member_key, valid_key=plain_key)
@strawberry.type(description="A member's consent to share their status with one partner.")
class PartnerConsent(Node):
    member_id: strawberry.Private[str]
    partner_id: strawberry.ID
    partner_name: str
    purpose: PartnerPurpose
    fields: list[str] = strawberry.field(description="What the partner may ask: tier, status, memberSince.")
    linked_id: str = strawberry.field(description="Give this id to the partner: it names you to them alone, and "
                                                  "stops working when you revoke.")
    granted_at: datetime
    revoked_at: datetime | None
    active: bool

    def node_key(self) -> str:
        return f"{self.member_id}|{self.partner_id}"

    @classmethod
    def of(cls, member_id: str, s: StoredConsent) -> "PartnerConsent":
        c = s.consent
        return cls(member_id=member_id, partner_id=strawberry.ID(c.partner_id), partner_name=s.partner_name,
                   purpose=c.purpose, fields=list(c.fields), linked_id=c.linked_id, granted_at=c.granted_at,
                   revoked_at=c.revoked_at, active=c.active)


def _load_lookup(info: Any, key: str) -> "PartnerLookupRecord | None":
    member_id, ulid = _member_key(key) or ("", "")
    found = PartnerLookups(info.context.require_tenant(), member_since(info)).one(member_id, ulid)
    return PartnerLookupRecord.of(member_id, found) if found else None


@node_type(load=_load_lookup, may_ask=_may_read_member_key, valid_key=plain_key)
@strawberry.type(description="One partner's look-up of the member: who, when, what they asked, whether they got "
                             "an answer.")
class PartnerLookupRecord(Node):
    member_id: strawberry.Private[str]
    lookup_id: strawberry.Private[str]
    partner_id: strawberry.ID
    partner_name: str
    at: datetime
    fields: list[str]
    answered: bool

    def node_key(self) -> str:
        return f"{self.member_id}|{self.lookup_id}"

    @classmethod
    def of(cls, member_id: str, lk: Lookup) -> "PartnerLookupRecord":
        return cls(member_id=member_id, lookup_id=lk.id, partner_id=strawberry.ID(lk.partner_id),
                   partner_name=lk.partner_name, at=lk.at, fields=list(lk.fields), answered=lk.answered)


@strawberry.type(description="What a partner learns of a consenting member: only the fields asked for and shared. "
                             "An embedded value of the look-up that returned it: it has no id of its own.")
class PartnerMemberStatus:
    tier: str | None = None
    status: str | None = None
    member_since: str | None = strawberry.field(default=None, description="The local join day, YYYY-MM-DD.")


def member_since(info: Info) -> Any:
    program = info.context.programs.program()
    return lambda joined_at: program.local_time(datetime.fromisoformat(joined_at)).date().isoformat()


def member_consents(info: Info, member_id: str) -> list[PartnerConsent]:
    found = Consents(info.context.require_tenant()).of_member(member_id)
    return [PartnerConsent.of(member_id, c) for c in found]


def member_lookups(info: Info, member_id: str, first: int | None, after: str | None) -> Connection[PartnerLookupRecord]:
    lookups = PartnerLookups(info.context.require_tenant(), member_since(info))
    return connection(info, first, after, lambda size, start: lookups.of_member(member_id, size, start),
                      lambda lk: PartnerLookupRecord.of(member_id, lk), owner=member_id)
