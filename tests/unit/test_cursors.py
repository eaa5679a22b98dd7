"""Cursors: sealed keys that open only for the list that issued them, until they expire."""
from __future__ import annotations

import base64
from datetime import datetime, timedelta, timezone

import pytest

from infra.cursors import CURSOR_TTL_SECONDS, CursorCodec, InvalidCursor

NOW = datetime(2026, 12, 1, tzinfo=timezone.utc)
KEY = {"PK": {"S": "T#alpha#M#m-1"}, "SK": {"S": "TX#01JABCDEF"}}
LIST = '["alpha","member","m-1","Member.pointsHistory","m-1",{}]'


def test_a_cursor_opens_to_the_key_it_sealed():
    codec = CursorCodec("secret")
    assert codec.open(codec.seal(KEY, LIST, NOW), LIST, NOW) == KEY


def test_a_cursor_reveals_nothing_of_the_key_the_tenant_or_the_layout():
    cursor = CursorCodec("secret").seal(KEY, LIST, NOW)
    raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
    for secret in (b"alpha", b"PK", b"TX#", b"m-1"):
        assert secret not in raw


def test_any_changed_character_makes_the_cursor_invalid():
    codec = CursorCodec("secret")
    cursor = codec.seal(KEY, LIST, NOW)
    for i in range(0, len(cursor), 7):
        tampered = cursor[:i] + ("A" if cursor[i] != "A" else "B") + cursor[i + 1:]
        with pytest.raises(InvalidCursor):
            codec.open(tampered, LIST, NOW)


def test_a_cursor_of_another_list_does_not_open():
    codec = CursorCodec("secret")
    cursor = codec.seal(KEY, LIST, NOW)
    with pytest.raises(InvalidCursor):
        codec.open(cursor, LIST.replace('"m-1",{}', '"m-2",{}'), NOW)


def test_a_cursor_expires():
    codec = CursorCodec("secret")
    cursor = codec.seal(KEY, LIST, NOW)
    assert codec.open(cursor, LIST, NOW + timedelta(seconds=CURSOR_TTL_SECONDS - 1)) == KEY
    with pytest.raises(InvalidCursor):
        codec.open(cursor, LIST, NOW + timedelta(seconds=CURSOR_TTL_SECONDS + 1))


def test_another_deployments_cursor_does_not_open():
    with pytest.raises(InvalidCursor):
        CursorCodec("other").open(CursorCodec("secret").seal(KEY, LIST, NOW), LIST, NOW)


@pytest.mark.parametrize("junk", ["", "x", "!!!!", "a" * 5000,
                                  base64.urlsafe_b64encode(b'{"PK":{"S":"T#alpha#M#me"}}').decode()])
def test_junk_and_forged_keys_are_invalid_cursors(junk):
    with pytest.raises(InvalidCursor):
        CursorCodec("secret").open(junk, LIST, NOW)
