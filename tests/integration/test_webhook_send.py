"""Sending one webhook to a real HTTP receiver on the loopback interface: signed so that the off-the-shelf
`standardwebhooks` verifier accepts it (with both secrets during a rotation), the receiver's status
reported as it was (no redirect followed), and the SSRF guard applied again at send. The only traffic
any of these tests sends goes to 127.0.0.1."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone
from typing import Iterator

import pytest
from standardwebhooks import Webhook
from standardwebhooks.webhooks import WebhookVerificationError

from domain.events_out import signing
from domain.events_out import endpoints as rules
from infra.events_out import endpoints as ep
from infra.events_out.sender import send_event
from tests.webhook_receiver import Receiver, loopback_resolver

NOW = datetime(2026, 12, 2, 12, 0, tzinfo=timezone.utc)
ENVELOPE = {"id": "01JEXAMPLE0000000000000000", "type": "PointsEarned", "version": 1,
            "occurredAt": "2026-12-02T11:59:59.000Z", "tenant": "demo", "memberId": "m-1",
            "data": {"points": "120", "note": "café ☕"}}


@pytest.fixture()
def receiver() -> Iterator[Receiver]:
    r = Receiver()
    yield r
    r.server.shutdown()
    r.server.server_close()


def endpoint(url: str, secrets: list[dict]) -> rules.Endpoint:
    return rules.Endpoint("demo", "01JENDPOINT", url, ("*",), True, tuple(secrets), None,
                       NOW.isoformat(), NOW.isoformat())


def test_a_delivery_is_verified_by_the_standard_webhooks_verifier_with_the_event_id_as_message_id(
        receiver: Receiver) -> None:
    now = datetime.now(timezone.utc)  # the verifier checks the timestamp against its own clock
    item, secret = ep.Endpoints("demo").new_item(receiver.url(), ("*",), True, None, now)
    calls: list[str] = []
    answer = send_event(ep.to_endpoint("demo", item), ENVELOPE, now, allow_loopback=True,
                        resolve=loopback_resolver(calls))
    assert answer.status == 204 and answer.error is None
    [(path, headers, body)] = receiver.requests
    assert path == "/hooks" and headers["webhook-id"] == ENVELOPE["id"]
    assert headers["webhook-timestamp"] == str(int(now.timestamp()))
    assert Webhook(secret).verify(body, headers) == ENVELOPE
    assert calls == ["localhost"], "the address connected to is the one the guard checked: one lookup"


def test_during_a_rotation_both_secrets_verify_and_after_the_overlap_only_the_new_one(receiver: Receiver) -> None:
    now = datetime.now(timezone.utc)
    item, old = ep.Endpoints("demo").new_item(receiver.url(), ("*",), True, None, now)
    secrets, new = rules.rotated(item.secrets, now)
    rotating = endpoint(receiver.url(), secrets)
    assert send_event(rotating, ENVELOPE, now, allow_loopback=True, resolve=loopback_resolver([])).status == 204
    _, headers, body = receiver.requests[-1]
    assert Webhook(old).verify(body, headers) == ENVELOPE
    assert Webhook(new).verify(body, headers) == ENVELOPE

    # Past the overlap the old secret signs nothing; the verifier is given the send time's clock.
    later = now + rules.ROTATION_OVERLAP + timedelta(seconds=1)
    assert rotating.active_secrets(later) == [new]
    headers_later = signing.sign(
        rotating.active_secrets(later), ENVELOPE["id"], int(now.timestamp()), body)
    assert Webhook(new).verify(body, headers_later) == ENVELOPE
    with pytest.raises(WebhookVerificationError):
        Webhook(old).verify(body, headers_later)


@pytest.mark.parametrize("status, retry_after, expected", [
    (500, None, (500, None)), (503, "120", (503, 120)), (429, "Wed, 21 Oct 2026 07:28:00 GMT", (429, None)),
    (410, None, (410, None)), (302, None, (302, None)),
])
def test_the_receivers_answer_is_reported_as_it_was_and_a_redirect_is_not_followed(
        receiver: Receiver, status: int, retry_after: str | None, expected: tuple) -> None:
    receiver.status = status
    receiver.headers = {"retry-after": retry_after} if retry_after else {}
    if status == 302:
        receiver.headers["location"] = f"http://127.0.0.1:{receiver.port}/elsewhere"
    answer = send_event(endpoint(receiver.url(), [{"secret": "whsec_" + "A" * 32, "until": None}]), ENVELOPE, NOW,
                        allow_loopback=True, resolve=loopback_resolver([]))
    assert (answer.status, answer.retry_after) == expected
    assert [path for path, _, _ in receiver.requests] == ["/hooks"]


def test_a_closed_port_is_no_answer_with_the_reason_not_an_exception(receiver: Receiver) -> None:
    port = receiver.port
    receiver.server.shutdown()
    receiver.server.server_close()
    answer = send_event(endpoint(f"http://localhost:{port}/hooks", [{"secret": "whsec_" + "A" * 32, "until": None}]),
                        ENVELOPE, NOW, allow_loopback=True, resolve=loopback_resolver([]))
    assert answer.status is None and answer.error == "ConnectionRefusedError"


@pytest.mark.parametrize("address", ["127.0.0.1", "169.254.169.254", "10.0.0.7", "::1", "fd00::1"])
def test_in_production_a_name_that_now_resolves_to_a_non_public_address_is_refused_at_send_with_no_connection(
        receiver: Receiver, address: str) -> None:
    # Registered while the name resolved publicly; at send a rebinding answer points it inward.
    answer = send_event(endpoint("https://hooks.example.com/in", [{"secret": "whsec_" + "A" * 32, "until": None}]),
                        ENVELOPE, NOW, allow_loopback=False, resolve=lambda host: [address])
    assert answer.status is None and answer.error is not None and answer.error.startswith("refused")
    assert receiver.requests == []


def test_in_production_plain_http_to_the_loopback_receiver_is_refused(receiver: Receiver) -> None:
    answer = send_event(endpoint(receiver.url(), [{"secret": "whsec_" + "A" * 32, "until": None}]), ENVELOPE, NOW,
                        allow_loopback=False, resolve=loopback_resolver([]))
    assert answer.status is None and answer.error is not None and answer.error.startswith("refused")
    assert receiver.requests == []
