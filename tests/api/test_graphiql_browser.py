"""GraphiQL works in a real browser with no network but the local server: the app as `make run` builds it
(dev mode, demo data, the dev member token) under uvicorn, and headless Chromium driven by playwright-core
(tests/api/graphiql_browser.mjs) opening /graphql, running the default query with Ctrl-Enter, reading
the result pane and opening the explorer. The browser resolves no other host, and every request it makes is recorded.

Chromium is Debian's (`apt-get install chromium`; .ci/run installs it). Without it the test is skipped
on a developer's machine, and fails in CI (CI=true), where it must run."""
from __future__ import annotations

import json
import os
import shutil
import subprocess
import time
from pathlib import Path
from typing import Any, Iterator
from urllib.parse import urlsplit

import jwt
import pytest

from api.demo import DEMO_MEMBERS
from api.dev_idp import DevIdentityProvider
from api.local import dev_api
from tests.support import live_server

ROOT = Path(__file__).resolve().parents[2]
DRIVER = Path(__file__).with_name("graphiql_browser.mjs")
_, DEMO_NAME, DEMO_EMAIL, _ = DEMO_MEMBERS[0]


@pytest.fixture(scope="module")
def chromium() -> str:
    """Looked up before anything starts, so a machine without it skips at once."""
    path = os.environ.get("CHROMIUM") or shutil.which("chromium")
    if path:
        return path
    reason = "Chromium is not installed: `apt-get install chromium` (Debian) to run the GraphiQL browser test"
    if os.environ.get("CI", "").lower() in ("1", "true", "yes"):
        pytest.fail(f"{reason}; CI must run it (.ci/run installs it)")
    pytest.skip(reason)


@pytest.fixture(scope="module")
def run(chromium: str, dynamodb_endpoint: str, table_name: str, services,
        tmp_path_factory) -> Iterator[dict[str, Any]]:
    """One browser session over GraphiQL; each test reads a part of its report."""
    assert (ROOT / "node_modules" / "playwright-core").is_dir(), "node_modules is missing: run `make deps`"
    idp = DevIdentityProvider("http://127.0.0.1/dev-idp")
    api = dev_api(dynamodb_endpoint, idp, table_name=table_name)  # `make run`'s wiring, on the session table
    screenshot = tmp_path_factory.mktemp("graphiql") / "graphiql.png"
    with live_server(api) as base:
        started = time.monotonic()
        proc = subprocess.run(["node", str(DRIVER), base, chromium, str(screenshot)], cwd=ROOT,
                              capture_output=True, text=True, timeout=120)
        seconds = time.monotonic() - started
    assert proc.returncode == 0, proc.stderr
    report = json.loads(proc.stdout)
    report.update(base=base, idp=idp, seconds=seconds, screenshot=screenshot)
    print(f"graphiql browser run: {seconds:.1f}s, {len(report['requests'])} requests, "
          f"steps {report['timings']} (ms), screenshot {screenshot}")
    yield report


def ok(report: dict[str, Any]) -> dict[str, Any]:
    assert "failure" not in report, f"{report['failure']}\nconsole: {report['console']}\nerrors: {report['errors']}"
    return report


def test_graphiql_renders_its_editor_with_the_default_query(run):
    r = ok(run)
    assert r["status"] == 200
    assert "query Me {" in r["queryText"] and "me {" in r["queryText"]


def test_the_headers_editor_is_prefilled_with_a_token_of_the_dev_member(run):
    headers = json.loads(ok(run)["headersText"])
    scheme, _, token = headers["Authorization"].partition(" ")
    assert scheme == "Bearer"
    claims = jwt.decode(token, run["idp"].private_key.public_key(), algorithms=["ES256"], audience="kizuna")
    assert claims["sub"] == "demo-member-1" and claims["email"] == DEMO_EMAIL


def test_a_query_run_from_the_editor_shows_the_member_in_the_result_pane(run):
    result = json.loads(ok(run)["resultText"])
    assert "errors" not in result, result
    assert result["data"]["me"]["name"] == DEMO_NAME and result["data"]["me"]["email"] == DEMO_EMAIL


def test_the_explorer_plugin_lists_the_schema_root_fields(run):
    fields = set(ok(run)["explorerText"].split())
    assert {"me", "members", "rewards"} <= fields, fields


def test_the_page_logs_no_console_error(run):
    r = ok(run)
    assert r["errors"] == []  # uncaught exceptions
    assert [m for m in r["console"] if m["type"] == "error"] == []  # CSP violations included


def test_the_page_makes_no_request_to_any_host_but_the_local_server(run):
    r = ok(run)
    base = urlsplit(run["base"])
    assert r["external"] == [] and r["failed"] == []
    assert all(urlsplit(u)[:2] == base[:2] for u in r["requests"] if not u.startswith(("data:", "blob:"))), \
        r["requests"]
    paths = {urlsplit(u).path for u in r["requests"]}
    # The recording saw the page, its bundle, Monaco's workers and the query itself.
    assert {"/graphql", "/graphiql/graphiql.js", "/graphiql/graphiql.css", "/graphiql/editor.worker.js",
            "/graphiql/graphql.worker.js"} <= paths, paths
