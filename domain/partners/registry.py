"""A partner brand as staff register it: who it is (its name and the client id its client-credentials tokens
carry), what it may ask (its scopes), how often (its rate limit), and whether it is suspended."""
from __future__ import annotations

import re
from dataclasses import dataclass
from enum import Enum

from domain.errors import ErrorCode, UserError

MEMBER_STATUS_SCOPE = "member-status"  # the one thing a partner can ever be allowed: `partnerMemberStatus`
SCOPES = (MEMBER_STATUS_SCOPE,)
MAX_PARTNERS = 50  # per program
RATE_WINDOW_SECONDS = 60
MIN_RATE, MAX_RATE, DEFAULT_RATE = 1, 6000, 60  # look-ups per minute
KEEP_MEMBER_LOOKUPS_DAYS = 400  # a member sees a year of who asked about them, and a little more
KEEP_PARTNER_LOOKUPS_DAYS = 90  # look-ups that named nobody, kept on the partner's side for review
_PARTNER_ID = re.compile(r"[a-z0-9][a-z0-9-]{0,39}")  # a slug: part of keys and of members' consent ids


class PartnerStatus(Enum):
    ACTIVE = "ACTIVE"
    SUSPENDED = "SUSPENDED"


@dataclass(frozen=True)
class Partner:
    id: str
    name: str
    client_id: str
    scopes: tuple[str, ...]
    rate_limit_per_minute: int
    status: PartnerStatus
    registered_at: str
    updated_at: str

    @property
    def active(self) -> bool:
        return self.status is PartnerStatus.ACTIVE

    def may(self, scope: str) -> bool:
        return self.active and scope in self.scopes


def check_registration(partner_id: str, scopes: list[str] | None,
                       rate_limit_per_minute: int | None) -> tuple[tuple[str, ...], int, list[UserError]]:
    """The scopes (known ones, in a stable order; default: member-status) and the rate, with a problem for
    each value that cannot be (the id too: a slug of a-z, 0-9 and '-', at most 40)."""
    problems = []
    if not _PARTNER_ID.fullmatch(partner_id):
        problems.append(UserError(ErrorCode.INVALID, "A partner id is a slug: 1-40 of a-z, 0-9 and '-', starting "
                                                     "with a letter or digit.", "id"))
    wanted = list(SCOPES) if scopes is None else scopes
    problems += [UserError(ErrorCode.INVALID, f"{s!r} is not a partner scope; the scopes are "
                           f"{', '.join(SCOPES)}.", f"scopes.{i}") for i, s in enumerate(wanted) if s not in SCOPES]
    rate = DEFAULT_RATE if rate_limit_per_minute is None else rate_limit_per_minute
    if not MIN_RATE <= rate <= MAX_RATE:
        problems.append(UserError(ErrorCode.OUT_OF_RANGE, f"The rate limit is {MIN_RATE} to {MAX_RATE} look-ups a "
                                                          "minute.", "rateLimitPerMinute"))
    return tuple(s for s in SCOPES if s in wanted), rate, problems
