"""Who is calling and what they may see: principals, staff roles and the rules between them."""
from __future__ import annotations

from dataclasses import dataclass, field
from enum import Enum


class Role(Enum):
    ADMIN = "admin"
    MODERATOR = "moderator"
    EVENT_STAFF = "event-staff"


class Kind(Enum):
    ANONYMOUS = "anonymous"
    MEMBER = "member"
    STAFF = "staff"
    SERVICE = "service"
    PARTNER = "partner"


@dataclass(frozen=True)
class Principal:
    """The verified caller. The tenant always comes from server configuration, never from input."""

    kind: Kind
    tenant: str | None
    subject: str | None = None
    roles: frozenset[Role] = field(default_factory=frozenset)
    scopes: frozenset[str] = field(default_factory=frozenset)
    # A member's email as the identity provider vouches for it (its email claim with email_verified
    # true). Only this email binds orders, uniqueness and partner look-ups; a typed one never does.
    verified_email: str | None = None

    @property
    def member_id(self) -> str | None:
        return self.subject if self.kind is Kind.MEMBER else None

    def is_staff(self, *any_of: Role) -> bool:
        if self.kind is not Kind.STAFF:
            return False
        return not any_of or bool(self.roles & set(any_of)) or Role.ADMIN in self.roles

    def can_read_member(self, member_id: str) -> bool:
        """Members read themselves; any staff role reads members; nobody else does."""
        return (self.kind is Kind.MEMBER and self.subject == member_id) or self.is_staff()


ANONYMOUS = Principal(kind=Kind.ANONYMOUS, tenant=None)
