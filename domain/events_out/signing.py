"""Webhook signatures in the Standard Webhooks convention (https://www.standardwebhooks.com).

Receivers should not have to trust the network or write their own crypto: every delivery carries
`webhook-id`, `webhook-timestamp` (unix seconds) and `webhook-signature`, the HMAC-SHA256 of
`{id}.{timestamp}.{body}` under the endpoint's secret, so the off-the-shelf verifiers (the
`standardwebhooks` libraries, Svix) check it as is. Signing the timestamp with the body makes a
captured delivery useless after the tolerance window; the id lets receivers drop duplicates.

Secrets are `whsec_<base64 of random bytes>`. During a rotation both the old and the new secret are
active and each adds its own `v1,<signature>` to the header, so a receiver holding either one verifies
and can switch over at its own pace.
"""
from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import secrets as random
from collections.abc import Iterable, Mapping

SECRET_PREFIX = "whsec_"
SECRET_BYTES = 32
MIN_SECRET_BYTES = 24
MAX_SECRET_BYTES = 64
DEFAULT_TOLERANCE_SECONDS = 300
VERSION = "v1"

ID_HEADER = "webhook-id"
TIMESTAMP_HEADER = "webhook-timestamp"
SIGNATURE_HEADER = "webhook-signature"


class InvalidSignature(Exception):
    """A delivery that must not be trusted: headers missing, outside the time window, or no signature
    made with the secret at hand."""


def new_secret(size: int = SECRET_BYTES) -> str:
    """A fresh endpoint secret, `whsec_` followed by `size` random bytes in base64."""
    if not MIN_SECRET_BYTES <= size <= MAX_SECRET_BYTES:
        raise ValueError(f"a secret has {MIN_SECRET_BYTES} to {MAX_SECRET_BYTES} bytes")
    return SECRET_PREFIX + base64.b64encode(random.token_bytes(size)).decode("ascii")


def secret_key(secret: str) -> bytes:
    """The HMAC key inside a `whsec_` secret; ValueError when it is not one."""
    if not isinstance(secret, str) or not secret.startswith(SECRET_PREFIX):
        raise ValueError(f"a webhook secret starts with {SECRET_PREFIX}")
    try:
        key = base64.b64decode(secret[len(SECRET_PREFIX):], validate=True)
    except (binascii.Error, ValueError):
        raise ValueError("a webhook secret is base64 after its prefix") from None
    if not MIN_SECRET_BYTES <= len(key) <= MAX_SECRET_BYTES:
        raise ValueError(f"a webhook secret holds {MIN_SECRET_BYTES} to {MAX_SECRET_BYTES} bytes")
    return key


def signature(secret: str, msg_id: str, timestamp: int, body: bytes | str) -> str:
    """One `v1,<base64 HMAC-SHA256>` entry of the signature header."""
    content = f"{msg_id}.{int(timestamp)}.".encode() + _bytes(body)
    digest = hmac.new(secret_key(secret), content, hashlib.sha256).digest()
    return f"{VERSION},{base64.b64encode(digest).decode('ascii')}"


def sign(secrets: Iterable[str], msg_id: str, timestamp: int, body: bytes | str) -> dict[str, str]:
    """The three headers of a delivery, signed by every active secret (two during a rotation)."""
    active = list(secrets)
    if not active:
        raise ValueError("an endpoint needs at least one active secret to sign with")
    if not msg_id or any(c in msg_id for c in " ,\r\n"):
        raise ValueError("a message id is a non-empty token without spaces or commas")
    return {
        ID_HEADER: msg_id,
        TIMESTAMP_HEADER: str(int(timestamp)),
        SIGNATURE_HEADER: " ".join(signature(s, msg_id, timestamp, body) for s in active),
    }


def verify(
    secret: str,
    headers: Mapping[str, str],
    body: bytes | str,
    now: int | float,
    tolerance: int = DEFAULT_TOLERANCE_SECONDS,
) -> None:
    """Return when `body` with `headers` was signed with `secret` within `tolerance` seconds of `now`
    (either side); raise InvalidSignature otherwise. Header names are matched case-insensitively."""
    lowered = {k.lower(): v for k, v in headers.items()}
    msg_id, stamp, signatures = (lowered.get(h) for h in (ID_HEADER, TIMESTAMP_HEADER, SIGNATURE_HEADER))
    if not (msg_id and stamp and signatures):
        raise InvalidSignature("missing webhook-id, webhook-timestamp or webhook-signature")
    try:
        timestamp = int(stamp)
    except ValueError:
        raise InvalidSignature("webhook-timestamp is not unix seconds") from None
    if timestamp < now - tolerance:
        raise InvalidSignature("the message timestamp is too old")
    if timestamp > now + tolerance:
        raise InvalidSignature("the message timestamp is too far in the future")
    expected = signature(secret, msg_id, timestamp, body)
    for entry in signatures.split(" "):
        if entry.startswith(VERSION + ",") and hmac.compare_digest(entry.encode(), expected.encode()):
            return
    raise InvalidSignature("no signature matches this secret")


def _bytes(body: bytes | str) -> bytes:
    return body.encode("utf-8") if isinstance(body, str) else bytes(body)
