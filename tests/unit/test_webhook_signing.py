"""Webhook signatures follow Standard Webhooks: the off-the-shelf `standardwebhooks` verifier accepts
them, refuses tampering and stale timestamps, and either secret verifies during a rotation."""
from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time

import pytest
from standardwebhooks import Webhook
from standardwebhooks.webhooks import WebhookVerificationError

from domain.events_out.signing import (
    InvalidSignature,
    new_secret,
    secret_key,
    sign,
    verify,
)

BODY = json.dumps(
    {"type": "points.earned", "id": "01JEVENT", "occurredAt": "2026-12-02T07:00:00Z", "data": {"points": 120}},
    separators=(",", ":"),
)
MSG_ID = "msg_01JEVENT"


def now() -> int:
    return int(time.time())


def test_a_new_secret_is_whsec_and_32_random_bytes() -> None:
    first, second = new_secret(), new_secret()
    assert first.startswith("whsec_") and first != second
    assert len(secret_key(first)) == 32


@pytest.mark.parametrize("size", [24, 64])
def test_a_secret_may_hold_24_to_64_bytes(size: int) -> None:
    assert len(secret_key(new_secret(size))) == size


@pytest.mark.parametrize("size", [0, 23, 65])
def test_a_secret_outside_24_to_64_bytes_is_not_made(size: int) -> None:
    with pytest.raises(ValueError):
        new_secret(size)


@pytest.mark.parametrize(
    "secret",
    ["", "MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", "whsec_", "whsec_not base64!", "whsec_" + base64.b64encode(b"x" * 16).decode()],
)
def test_a_malformed_secret_is_refused(secret: str) -> None:
    with pytest.raises(ValueError):
        secret_key(secret)


def test_the_signature_is_hmac_sha256_over_id_timestamp_and_body() -> None:
    secret = new_secret()
    headers = sign([secret], MSG_ID, 1764658800, BODY)
    digest = hmac.new(secret_key(secret), f"{MSG_ID}.1764658800.{BODY}".encode(), hashlib.sha256).digest()
    assert headers == {
        "webhook-id": MSG_ID,
        "webhook-timestamp": "1764658800",
        "webhook-signature": "v1," + base64.b64encode(digest).decode(),
    }


def test_the_standard_webhooks_verifier_accepts_our_signature() -> None:
    secret = new_secret()
    headers = sign([secret], MSG_ID, now(), BODY)
    assert Webhook(secret).verify(BODY, headers) == json.loads(BODY)
    assert Webhook(secret).verify(BODY.encode(), headers) == json.loads(BODY)


def test_a_body_given_as_bytes_signs_the_same_as_its_text() -> None:
    secret, stamp = new_secret(), now()
    assert sign([secret], MSG_ID, stamp, BODY) == sign([secret], MSG_ID, stamp, BODY.encode())


def test_a_non_ascii_body_verifies_with_the_standard_verifier() -> None:
    secret, body = new_secret(), json.dumps({"title": "会員限定イベント"}, ensure_ascii=False)
    assert Webhook(secret).verify(body.encode(), sign([secret], MSG_ID, now(), body.encode()))["title"] == "会員限定イベント"


@pytest.mark.parametrize(
    "tamper",
    [
        lambda body, headers: (body.replace("120", "121"), headers),
        lambda body, headers: (body + " ", headers),
        lambda body, headers: (body, {**headers, "webhook-id": "msg_other"}),
        lambda body, headers: (body, {**headers, "webhook-timestamp": str(int(headers["webhook-timestamp"]) + 1)}),
    ],
    ids=["changed body", "appended body", "changed id", "changed timestamp"],
)
def test_the_standard_webhooks_verifier_refuses_a_tampered_delivery(tamper) -> None:
    secret = new_secret()
    body, headers = tamper(BODY, sign([secret], MSG_ID, now(), BODY))
    with pytest.raises(WebhookVerificationError):
        Webhook(secret).verify(body, headers)


def test_the_standard_webhooks_verifier_refuses_another_secret() -> None:
    headers = sign([new_secret()], MSG_ID, now(), BODY)
    with pytest.raises(WebhookVerificationError):
        Webhook(new_secret()).verify(BODY, headers)


@pytest.mark.parametrize("offset", [-301 - 60, 301 + 60])
def test_the_standard_webhooks_verifier_refuses_a_timestamp_outside_five_minutes(offset: int) -> None:
    secret = new_secret()
    headers = sign([secret], MSG_ID, now() + offset, BODY)
    with pytest.raises(WebhookVerificationError, match="too old|too new"):
        Webhook(secret).verify(BODY, headers)


def test_during_rotation_both_secrets_sign_and_either_alone_verifies() -> None:
    old, new = new_secret(), new_secret()
    headers = sign([old, new], MSG_ID, now(), BODY)
    assert len(headers["webhook-signature"].split(" ")) == 2
    for secret in (old, new):
        assert Webhook(secret).verify(BODY, headers) == json.loads(BODY)
        verify(secret, headers, BODY, now=now())
    with pytest.raises(WebhookVerificationError):
        Webhook(new_secret()).verify(BODY, headers)


def test_after_rotation_ends_the_old_secret_no_longer_verifies() -> None:
    old, new = new_secret(), new_secret()
    headers = sign([new], MSG_ID, now(), BODY)
    Webhook(new).verify(BODY, headers)
    with pytest.raises(WebhookVerificationError):
        Webhook(old).verify(BODY, headers)
    with pytest.raises(InvalidSignature, match="no signature matches"):
        verify(old, headers, BODY, now=now())


def test_signing_needs_an_active_secret_and_a_clean_id() -> None:
    with pytest.raises(ValueError):
        sign([], MSG_ID, now(), BODY)
    for bad_id in ("", "msg 1", "msg,1"):
        with pytest.raises(ValueError):
            sign([new_secret()], bad_id, now(), BODY)


def test_our_verifier_accepts_what_we_sign_with_any_header_case() -> None:
    secret, stamp = new_secret(), 1_764_658_800
    headers = {k.title(): v for k, v in sign([secret], MSG_ID, stamp, BODY).items()}
    verify(secret, headers, BODY, now=stamp + 299)
    verify(secret, headers, BODY.encode(), now=stamp - 299)


@pytest.mark.parametrize(
    ("moment", "says"),
    [(1_764_658_800 + 301, "too old"), (1_764_658_800 - 301, "future")],
)
def test_our_verifier_refuses_a_timestamp_outside_the_tolerance(moment: int, says: str) -> None:
    secret = new_secret()
    headers = sign([secret], MSG_ID, 1_764_658_800, BODY)
    with pytest.raises(InvalidSignature, match=says):
        verify(secret, headers, BODY, now=moment)
    verify(secret, headers, BODY, now=moment, tolerance=400)


@pytest.mark.parametrize(
    "change",
    [
        lambda h: {k: v for k, v in h.items() if k != "webhook-signature"},
        lambda h: {k: v for k, v in h.items() if k != "webhook-id"},
        lambda h: {**h, "webhook-timestamp": "soon"},
        lambda h: {**h, "webhook-signature": h["webhook-signature"].replace("v1,", "v2,")},
        lambda h: {**h, "webhook-signature": "v1," + base64.b64encode(b"0" * 32).decode()},
    ],
    ids=["no signature", "no id", "timestamp not a number", "unknown version", "wrong signature"],
)
def test_our_verifier_refuses_missing_or_wrong_headers(change) -> None:
    secret, stamp = new_secret(), 1_764_658_800
    with pytest.raises(InvalidSignature):
        verify(secret, change(sign([secret], MSG_ID, stamp, BODY)), BODY, now=stamp)


def test_our_verifier_refuses_a_tampered_body() -> None:
    secret, stamp = new_secret(), 1_764_658_800
    with pytest.raises(InvalidSignature):
        verify(secret, sign([secret], MSG_ID, stamp, BODY), BODY.replace("120", "999"), now=stamp)
