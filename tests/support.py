"""Test helpers: a GraphQL client over the real HTTP handling, and unique tenants."""
from __future__ import annotations

import json
import socket
import threading
import time
import uuid
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, Callable, Iterator

from api.http import Api
from api.messages import Request


def new_tenant() -> str:
    return f"t-{uuid.uuid4().hex[:12]}"


@dataclass
class Result:
    status: int
    body: dict[str, Any]

    @property
    def data(self) -> Any:
        return self.body.get("data")

    @property
    def errors(self) -> list[dict[str, Any]]:
        return self.body.get("errors") or []

    def error_codes(self) -> list[str | None]:
        return [e.get("extensions", {}).get("code") for e in self.errors]


class GraphQLClient:
    """Sends requests through Api.handle: the same limits, auth and execution as Lambda and uvicorn."""

    def __init__(self, api: Api, token: str | None = None):
        self.api = api
        self.token = token

    def as_(self, token: str | None) -> "GraphQLClient":
        return GraphQLClient(self.api, token)

    def raw(self, body: bytes, *, method: str = "POST", content_type: str = "application/json",
            headers: dict[str, str] | None = None, path: str = "/graphql") -> Result:
        h = {"content-type": content_type}
        if self.token:
            h["authorization"] = f"Bearer {self.token}"
        h.update(headers or {})
        resp = self.api.handle(Request(method=method, path=path, headers=h, body=body))
        try:
            parsed = json.loads(resp.body) if resp.body else {}
        except ValueError:
            parsed = {"raw": resp.body.decode(errors="replace")}
        return Result(resp.status, parsed)

    def __call__(self, query: str, variables: dict[str, Any] | None = None, **kw: Any) -> Result:
        return self.raw(json.dumps({"query": query, "variables": variables or {}}).encode(), **kw)

    def ok(self, query: str, variables: dict[str, Any] | None = None) -> Any:
        """Run and insist on no top-level errors; returns data."""
        r = self(query, variables)
        assert r.status == 200 and not r.errors, r.body
        return r.data


@contextmanager
def live_server(api: Api) -> Iterator[str]:
    """The ASGI app under a real uvicorn on a free local port, in a background thread, as `make run` serves it
    (each request runs on the server's thread pool). Yields the base URL."""
    import uvicorn

    from api.asgi import AsgiApp

    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(AsgiApp(api), log_level="warning", access_log=False))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, name="uvicorn", daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    try:
        while not server.started:
            assert thread.is_alive() and time.monotonic() < deadline, "uvicorn did not start"
            time.sleep(0.02)
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(20)
        sock.close()


def all_at_once(calls: list[Callable[[], Any]], timeout: float = 120) -> list[Any]:
    """Run every call in its own thread, released together by a barrier (real concurrent requests);
    what each returned or raised, in the order given."""
    results: list[Any] = [None] * len(calls)
    start = threading.Barrier(len(calls))

    def run(i: int, call: Callable[[], Any]) -> None:
        start.wait()
        try:
            results[i] = call()
        except BaseException as e:  # noqa: BLE001 - the test looks at it
            results[i] = e

    threads = [threading.Thread(target=run, args=(i, c)) for i, c in enumerate(calls)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout)
    return results


def raised_at_once(calls: list[Callable[[], Any]], timeout: float = 120) -> list[BaseException]:
    """`all_at_once`, keeping only what the calls raised."""
    return [r for r in all_at_once(calls, timeout) if isinstance(r, BaseException)]


@contextmanager
def moto_server() -> Iterator[str]:
    """moto in server mode, a separate process on a free loopback port, for the AWS services AWS ships no
    local emulator of (SSM, EventBridge, SQS). The test process never imports moto, so nothing of it can
    leak into other tests. Yields its endpoint URL."""
    import subprocess
    import sys
    import urllib.request

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    server = subprocess.Popen([sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)],
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    endpoint = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                urllib.request.urlopen(f"{endpoint}/moto-api/", timeout=1).close()
                break
            except OSError:
                if server.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError("moto server did not start") from None
                time.sleep(0.1)
        yield endpoint
    finally:
        server.terminate()
        server.wait(10)


def check_page_ends_exactly(page: Callable[..., dict]) -> None:
    """A connection of exactly three items, read by `page(f, a)` (first, after): all three on one page says
    there is no next page; two then one say so where they should; a page after the end is empty."""
    whole = page(3, None)
    assert len(whole["edges"]) == 3 and whole["pageInfo"]["hasNextPage"] is False, whole
    part = page(2, None)
    assert len(part["edges"]) == 2 and part["pageInfo"]["hasNextPage"] is True, part
    rest = page(2, part["pageInfo"]["endCursor"])
    assert len(rest["edges"]) == 1 and rest["pageInfo"]["hasNextPage"] is False, rest
    if all("cursor" in e for e in rest["edges"] + part["edges"]):
        assert {e["cursor"] for e in rest["edges"]}.isdisjoint(e["cursor"] for e in part["edges"])
    empty = page(5, rest["pageInfo"]["endCursor"])
    assert empty["edges"] == [] and empty["pageInfo"]["hasNextPage"] is False, empty
