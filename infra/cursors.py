"""Connection cursors: a page's DynamoDB key, sealed so that it reveals nothing and cannot be forged.

A cursor is AES-GCM over `{"k": <the item's key>, "x": <expiry>}` with a per-deployment key; the
list it belongs to (tenant, caller, connection, owner, filters) is the associated data, so a cursor
opens only for the very list that issued it, and only until it expires. Nothing of the keys, the
tenant or the table layout is readable from it.
"""
from __future__ import annotations

import base64
import binascii
import hashlib
import json
import os
from datetime import datetime
from typing import Any

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

CURSOR_TTL_SECONDS = 24 * 3600  # long enough for a long scroll, short enough that old links die
MAX_CURSOR_CHARS = 1024  # a sealed key is a few hundred characters; anything longer is not ours
_NONCE = 12


class InvalidCursor(Exception):
    """Not a cursor this deployment issued for this list, or one that has expired."""


class CursorCodec:
    def __init__(self, secret: str | None):
        # Without a configured secret each container has its own key: cursors still work, within it.
        material = secret.encode() if secret else os.urandom(32)
        self._aead = AESGCM(hashlib.sha256(b"kizuna-cursor-v1:" + material).digest())

    def seal(self, key: dict[str, Any], binding: str, now: datetime) -> str:
        body = json.dumps({"k": key, "x": int(now.timestamp()) + CURSOR_TTL_SECONDS}, separators=(",", ":"),
                          sort_keys=True).encode()
        nonce = os.urandom(_NONCE)
        sealed = nonce + self._aead.encrypt(nonce, body, binding.encode())
        return base64.urlsafe_b64encode(sealed).rstrip(b"=").decode()

    def open(self, cursor: str, binding: str, now: datetime) -> dict[str, Any]:
        if not isinstance(cursor, str) or not 0 < len(cursor) <= MAX_CURSOR_CHARS:
            raise InvalidCursor("not a cursor")
        try:
            raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
            body = json.loads(self._aead.decrypt(raw[:_NONCE], raw[_NONCE:], binding.encode()))
        except (binascii.Error, ValueError, InvalidTag):
            raise InvalidCursor("not a cursor of this list") from None
        if int(body["x"]) < now.timestamp():
            raise InvalidCursor("expired")
        return body["k"]
