"""Sending one signed webhook: the destination checked again at send, the connection made to exactly
the addresses just checked (no second DNS lookup a rebinding attacker could answer), TLS verified
against the URL's host name, a short timeout, and redirects never followed (a 3xx is an answer like
any other non-2xx: retried, see domain/events_out/retries.py)."""
from __future__ import annotations

import http.client
import json
import socket
import ssl
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Callable
from urllib.parse import urlsplit

from domain.errors import UserError
from domain.events_out import signing
from infra.events_out import destinations

if TYPE_CHECKING:
    from domain.events_out.endpoints import Endpoint

TIMEOUT_SECONDS = 5.0  # the stream Lambda must not wait long: a slow endpoint is retried by the job
USER_AGENT = "Kizuna-Webhooks/1"


@dataclass(frozen=True)
class Answer:
    status: int | None  # None: no answer (timeout, refused, TLS failure, or refused by the guard)
    retry_after: int | None = None
    error: str | None = None  # why there was no answer, for the delivery's record (no body, no secrets)


class _PinnedHTTPS(http.client.HTTPSConnection):
    def __init__(self, address: str, host: str, port: int, timeout: float):
        super().__init__(host, port, timeout=timeout, context=ssl.create_default_context())
        self._address = address

    def connect(self) -> None:  # connect to the checked address, verify the certificate for the host
        raw = socket.create_connection((self._address, self.port), self.timeout)
        self.sock = self._context.wrap_socket(raw, server_hostname=self.host)


class _PinnedHTTP(http.client.HTTPConnection):
    def __init__(self, address: str, host: str, port: int, timeout: float):
        super().__init__(host, port, timeout=timeout)
        self._address = address

    def connect(self) -> None:
        self.sock = socket.create_connection((self._address, self.port), self.timeout)


def _retry_after(value: str | None) -> int | None:
    try:
        return int(value) if value is not None else None
    except ValueError:
        return None  # an HTTP date: the schedule's own wait applies


def send(url: str, body: bytes, headers: dict[str, str], *, allow_loopback: bool,
         resolve: Callable = destinations.resolve_host, timeout: float = TIMEOUT_SECONDS) -> Answer:
    """POST `body` to `url` once; the receiver's status, or no status with the reason."""
    try:
        addresses = destinations.pinned_addresses(url, resolve=resolve, allow_loopback=allow_loopback)
    except UserError as e:
        return Answer(None, error=f"refused: {e.message}")
    parts = urlsplit(url)
    host = parts.hostname or ""
    port = parts.port or destinations.DEFAULT_PORTS[parts.scheme]
    path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    kind = _PinnedHTTPS if parts.scheme == "https" else _PinnedHTTP
    last = "no address"
    for address in addresses:
        connection = kind(address.strip("[]"), host, port, timeout)
        try:
            connection.request("POST", path, body=body, headers={
                **headers, "content-type": "application/json", "user-agent": USER_AGENT})
            response = connection.getresponse()
            response.read(64 * 1024)  # the body is not used; read a little so the connection closes cleanly
            return Answer(response.status, _retry_after(response.getheader("retry-after")))
        except (OSError, http.client.HTTPException) as e:
            last = type(e).__name__  # try the next checked address, if any
        finally:
            connection.close()
    return Answer(None, error=last)


def send_event(endpoint: "Endpoint", envelope: dict, now: datetime, *, allow_loopback: bool,
               resolve: Callable = destinations.resolve_host, timeout: float = TIMEOUT_SECONDS) -> Answer:
    """One delivery of an event to one endpoint: the envelope as compact JSON, signed with every secret
    the endpoint has active at `now` (two during a rotation's overlap), the event id as `webhook-id` so
    every retry of the same event carries the same id for the receiver to deduplicate on."""
    body = json.dumps(envelope, separators=(",", ":"), ensure_ascii=False).encode()
    headers = signing.sign(endpoint.active_secrets(now), envelope["id"], int(now.timestamp()), body)
    return send(endpoint.url, body, headers, allow_loopback=allow_loopback, resolve=resolve, timeout=timeout)
