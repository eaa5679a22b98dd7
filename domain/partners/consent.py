"""A member's consent to share their status with one partner brand, and the one answer a partner gets.

A consent names the partner, the purpose and the fields shared, with when it was given (and, once
revoked, when it ended). Only three fields can ever be shared: tier, status and memberSince. A
partner asking for anything else (an email, a name, a balance) gets the same "no answer" as a
partner asking about someone who never consented: no call tells a partner more than a consenting
member agreed to, and no answer tells one consenting member from a non-member.
"""
from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime
from enum import Enum

from domain.errors import ErrorCode, UserError

SHAREABLE_FIELDS = ("tier", "status", "memberSince")


class Purpose(Enum):
    TIER_MATCH = "TIER_MATCH"  # the partner offers the member a tier of its own to match ours
    PARTNER_BENEFITS = "PARTNER_BENEFITS"  # the partner gives our members a benefit by tier


@dataclass(frozen=True)
class Consent:
    partner_id: str
    purpose: Purpose
    fields: tuple[str, ...]
    granted_at: datetime
    linked_id: str
    revoked_at: datetime | None = None

    @property
    def active(self) -> bool:
        return self.revoked_at is None

    def revoke(self, at: datetime) -> "Consent":
        return self if self.revoked_at is not None else replace(self, revoked_at=at)


def check_fields(fields: list[str] | tuple[str, ...]) -> tuple[tuple[str, ...], list[UserError]]:
    """The fields a member may grant, in a stable order, and a problem for each one that cannot be."""
    problems = [UserError(ErrorCode.INVALID, f"{f!r} cannot be shared with partners; only "
                          f"{', '.join(SHAREABLE_FIELDS)} can.", f"fields.{i}")
                for i, f in enumerate(fields) if f not in SHAREABLE_FIELDS]
    if not fields:
        problems.append(UserError(ErrorCode.REQUIRED, "Name at least one field to share.", "fields"))
    return tuple(f for f in SHAREABLE_FIELDS if f in fields), problems


@dataclass(frozen=True)
class Status:
    tier: str | None
    status: str  # "ACTIVE", "LAPSED"
    member_since: str  # the local join day, YYYY-MM-DD: a partner needs the day, never the time


def answer(consent: Consent | None, requested: tuple[str, ...], status: Status | None, *,
           partner_active: bool) -> dict[str, str | None] | None:
    """What a partner's look-up returns: the requested fields the member shares, or None. None for a
    suspended partner, a missing or revoked consent, a non-member, or any requested field the consent
    does not cover: the partner cannot tell these apart."""
    if not partner_active or consent is None or not consent.active or status is None:
        return None
    if not requested or any(f not in consent.fields for f in requested):
        return None
    values = {"tier": status.tier, "status": status.status, "memberSince": status.member_since}
    return {f: values[f] for f in requested}
