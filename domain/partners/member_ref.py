"""How a partner names a member in a look-up: by the partner-linked id the member shared with that
partner, or by the SHA-256 of the member's verified email, normalized as Kizuna stores it.

A linked id is minted when the member grants consent, belongs to one member and one partner, and
dies with the consent: a revoked consent cannot be looked up by its old id, and a new grant mints a
new one, so a partner cannot join what it saw before a revocation with what it sees after.
"""
from __future__ import annotations

import hashlib
import re
import secrets
from dataclasses import dataclass

from domain.members import normalize_email

LINKED_ID_PREFIX = "pl_"
_LINKED_ID = re.compile(r"^pl_[a-z2-7]{26}$")  # 130 random bits, base32 lowercase: unguessable, key-safe
_SHA256_HEX = re.compile(r"^[0-9a-f]{64}$")


def new_linked_id() -> str:
    alphabet = "abcdefghijklmnopqrstuvwxyz234567"
    return LINKED_ID_PREFIX + "".join(secrets.choice(alphabet) for _ in range(26))


def email_hash(email: str) -> str:
    """What a partner sends for an email: hex SHA-256 of the address trimmed and lowercased."""
    return hashlib.sha256(normalize_email(email).encode()).hexdigest()


@dataclass(frozen=True)
class MemberRef:
    linked_id: str | None = None
    email_sha256: str | None = None


def parse(linked_id: str | None, email_sha256: str | None) -> MemberRef | None:
    """The reference a partner sent, or None when it is not exactly one well-formed reference. A
    malformed reference gets the same answer as an unknown one (no hint about which part was wrong)."""
    if (linked_id is None) == (email_sha256 is None):
        return None
    if linked_id is not None:
        return MemberRef(linked_id=linked_id) if _LINKED_ID.match(linked_id) else None
    digest = email_sha256.strip().lower() if isinstance(email_sha256, str) else ""
    return MemberRef(email_sha256=digest) if _SHA256_HEX.match(digest) else None
