"""Production request limits: depth, aliases, tokens, body size, introspection, suggestions, POST-only, masking."""
from __future__ import annotations

import asyncio
import json
import logging
import time
import uuid
from typing import Any

import pytest

from api.asgi import AsgiApp
from api.http import Api
from api.runtime import build_services
from infra.members import Members
from tests.conftest import ENROLL, make_settings
from tests.support import GraphQLClient, Result

ME = "{ me { id } }"
MIB = 1024 * 1024
INTROSPECTION = "{ __schema { queryType { name } types { name } } }"
TYPE_INTROSPECTION = '{ __type(name: "Member") { fields { name } } }'


def enroll_input() -> dict[str, Any]:
    return {"input": {"name": "Via GET", "email": f"{uuid.uuid4().hex[:10]}@example.com"}}


@pytest.fixture(scope="module")
def dev_api(dynamodb_endpoint, table_name, services, idp, other_idp, tenants) -> Api:
    """A dev-mode Api on the same session table (the production one is the default `api` fixture)."""
    settings = make_settings(dynamodb_endpoint, table_name,
                             (idp.issuer_settings(tenants["a"]), other_idp.issuer_settings(tenants["b"])),
                             env="dev", default_tenant=tenants["a"])
    return Api(build_services(settings))


@pytest.fixture
def dev_member(dev_api, idp, member_id) -> GraphQLClient:
    return GraphQLClient(dev_api, idp.member_token(member_id))


def assert_rejected_before_execution(r: Result) -> None:
    # A request error: nothing ran, so no `data` key; 200 because these clients send no Accept
    # (application/json), see tests/api/test_protocol.py for application/graphql-response+json.
    assert r.status == 200, r.body
    assert "data" not in r.body
    assert r.errors


# -- depth, aliases, tokens ---------------------------------------------------------------------
def nested(depth: int) -> str:
    """A selection `depth` fields deep. The schema has no cycle, so it is only ~6 real fields deep;
    past that the field names are made up (the depth rule counts fields, whatever they are)."""
    real = ["members(first: 1)", "edges", "node", "redemptions(first: 1)", "edges", "node", "reward"]
    names = (real + [f"level{i}" for i in range(len(real), depth)])[:depth]
    return "".join(f"{n} {{ " for n in names) + "id" + " }" * depth


def test_a_query_nested_20_deep_is_rejected_by_the_depth_limit(admin):
    r = admin(f"query Deep {{ {nested(20)} }}")
    assert_rejected_before_execution(r)
    assert "'Deep' exceeds maximum operation depth of 10" in [e["message"] for e in r.errors]


def test_the_deepest_real_query_is_within_the_production_depth_limit(admin):
    assert admin.ok(f"query Deepest {{ {nested(7)} }}")["members"] is not None


def test_the_depth_limit_alone_rejects_an_otherwise_valid_query(dynamodb_endpoint, table_name, services, idp,
                                                                tenants):
    # The real schema cannot nest past the production limit, so prove the rule on real fields
    # with a tighter limit: the same valid query is refused for depth and nothing else.
    settings = make_settings(dynamodb_endpoint, table_name, (idp.issuer_settings(tenants["a"]),), max_depth=3)
    tight = GraphQLClient(Api(build_services(settings)), idp.staff_token("staff-depth", "kizuna-admins"))
    r = tight(f"query Deepest {{ {nested(7)} }}")
    assert_rejected_before_execution(r)
    assert [e["message"] for e in r.errors] == ["'Deepest' exceeds maximum operation depth of 3"]
    assert tight.ok(f"query Shallow {{ {nested(3)} }}")["members"] is not None


def through_fragments(depth: int) -> str:
    """The shape of `nested(depth)` with every field in a fragment of its own (made-up fields: the
    depth rule counts them whatever they are)."""
    last = depth - 1
    fragments = [f"fragment L{i} on Query {{ l{i} {{ ...L{i + 1} }} }}" for i in range(last)]
    fragments.append(f"fragment L{last} on Query {{ l{last} {{ id }} }}")
    return "query Spread { ...L0 } " + " ".join(fragments)


def test_the_depth_limit_counts_fields_reached_through_fragments(admin):
    over = admin(through_fragments(11))
    assert_rejected_before_execution(over)
    assert "'Spread' exceeds maximum operation depth of 10" in [e["message"] for e in over.errors]
    within = admin(through_fragments(10))
    assert not any("depth" in e["message"] for e in within.errors), within.body


def doubling_fragments(levels: int) -> str:
    """F<n> spreads F<n-1> twice, down to one aliased field: 2**levels aliases in ~10 tokens a level."""
    fragments = ["fragment F0 on Query { a: __typename }"]
    fragments += [f"fragment F{i} on Query {{ ...F{i - 1} ...F{i - 1} }}" for i in range(1, levels + 1)]
    return f"query Doubling {{ ...F{levels} }} " + " ".join(fragments)


def test_fragments_spread_twice_at_each_level_are_measured_once_each_not_once_per_spread(member):
    # Strawberry's limiters walk every spread: 2**21 steps each here, about ten seconds a rule.
    started = time.monotonic()
    r = member(doubling_fragments(21))
    elapsed = time.monotonic() - started
    assert_rejected_before_execution(r)
    assert f"{2 ** 21} aliases found. Allowed: 15" in [e["message"] for e in r.errors], r.body
    assert elapsed < 1.0, elapsed


def aliases(n: int) -> str:
    return "query Aliased { " + " ".join(f"a{i}: me {{ id }}" for i in range(n)) + " }"


def test_16_aliases_are_rejected_but_15_are_accepted(member):
    r = member(aliases(16))
    assert_rejected_before_execution(r)
    assert any("aliases" in e["message"].lower() for e in r.errors)
    ok = member(aliases(15))
    assert ok.status == 200 and not ok.errors, ok.body
    assert len(ok.data) == 15


def listing_tokens(n_values: int) -> str:
    """A valid query of 21 + n_values tokens: one long enum list argument."""
    return ("{ me { pointsHistory(first: 1, types: [" + " EARN" * n_values + " ]) { edges { cursor } } } }")


def test_a_5000_token_document_is_rejected_but_one_under_2000_is_accepted(member):
    big = listing_tokens(5000 - 21)
    assert len(big.encode()) < member.api.settings.max_body_bytes  # the token limit, not the body cap
    r = member(big)
    assert_rejected_before_execution(r)
    assert any("more than 2000 tokens" in e["message"] for e in r.errors), r.body
    assert member.ok(listing_tokens(1900)) == {"me": None}


# -- body size ----------------------------------------------------------------------------------
def padded_query(size: int) -> bytes:
    """A valid request body of exactly `size` bytes (JSON allows trailing whitespace)."""
    body = json.dumps({"query": ME}).encode()
    return body + b" " * (size - len(body))


def test_a_1_mib_body_is_rejected_with_413_by_the_handler(member):
    r = member.raw(padded_query(MIB))
    assert r.status == 413
    assert r.error_codes() == ["BODY_TOO_LARGE"]
    assert "data" not in r.body


def test_the_body_cap_is_inclusive_one_byte_over_is_rejected(member):
    cap = member.api.settings.max_body_bytes
    at_cap = member.raw(padded_query(cap))
    assert at_cap.status == 200 and at_cap.data == {"me": None}, at_cap.body
    assert member.raw(padded_query(cap + 1)).status == 413


class AsgiCall:
    """Drives the ASGI app by hand: queued receive messages, recorded send messages."""

    def __init__(self, app: AsgiApp, *, method: str = "POST", path: str = "/graphql",
                 headers: dict[str, str] | None = None, chunks: list[bytes] | None = None,
                 query_string: bytes = b""):
        self.app = app
        self.scope = {"type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": method,
                      "path": path, "raw_path": path.encode(), "root_path": "", "scheme": "http",
                      "query_string": query_string, "server": ("127.0.0.1", 8000), "client": ("127.0.0.1", 5000),
                      "headers": [(k.lower().encode("latin-1"), v.encode("latin-1"))
                                  for k, v in (headers or {}).items()]}
        self.chunks = list(chunks if chunks is not None else [b""])
        self.received = 0
        self.sent: list[dict[str, Any]] = []

    async def receive(self) -> dict[str, Any]:
        if self.received >= len(self.chunks):
            return {"type": "http.disconnect"}
        chunk = self.chunks[self.received]
        self.received += 1
        return {"type": "http.request", "body": chunk, "more_body": self.received < len(self.chunks)}

    async def send(self, message: dict[str, Any]) -> None:
        self.sent.append(message)

    def run(self) -> "AsgiCall":
        asyncio.run(self.app(self.scope, self.receive, self.send))
        return self

    @property
    def status(self) -> int:
        return next(m["status"] for m in self.sent if m["type"] == "http.response.start")

    @property
    def headers(self) -> dict[str, str]:
        start = next(m for m in self.sent if m["type"] == "http.response.start")
        return {k.decode(): v.decode() for k, v in start["headers"]}

    @property
    def json(self) -> dict[str, Any]:
        return json.loads(b"".join(m.get("body", b"") for m in self.sent if m["type"] == "http.response.body"))


@pytest.fixture
def asgi(api) -> AsgiApp:
    return AsgiApp(api)


def test_the_asgi_app_serves_a_small_request(asgi, idp, member_id):
    body = json.dumps({"query": ME}).encode()
    call = AsgiCall(asgi, headers={"content-type": "application/json", "content-length": str(len(body)),
                                   "authorization": f"Bearer {idp.member_token(member_id)}"},
                    chunks=[body[:5], body[5:]]).run()
    assert call.status == 200
    assert call.json == {"data": {"me": None}}


def test_the_asgi_app_rejects_a_declared_content_length_over_the_cap_without_reading_the_body(asgi):
    call = AsgiCall(asgi, headers={"content-type": "application/json", "content-length": str(MIB)},
                    chunks=[b" " * (64 * 1024)] * 16).run()
    assert call.status == 413
    assert [e["extensions"]["code"] for e in call.json["errors"]] == ["BODY_TOO_LARGE"]
    assert call.received == 0


def test_the_asgi_app_rejects_a_chunked_body_over_the_cap_without_content_length(asgi):
    chunk = b" " * (64 * 1024)
    call = AsgiCall(asgi, headers={"content-type": "application/json", "transfer-encoding": "chunked"},
                    chunks=[chunk] * 16 + [json.dumps({"query": ME}).encode()]).run()
    assert call.status == 413
    assert [e["extensions"]["code"] for e in call.json["errors"]] == ["BODY_TOO_LARGE"]
    assert call.received < 17  # it stopped reading once over the cap instead of buffering the whole MiB
    assert call.received * len(chunk) <= asgi.api.settings.max_body_bytes + len(chunk)


def test_the_asgi_app_rejects_a_1_mib_body_that_understates_its_content_length(asgi):
    call = AsgiCall(asgi, headers={"content-type": "application/json", "content-length": "10"},
                    chunks=[b" " * MIB]).run()
    assert call.status == 413


# -- introspection and suggestions --------------------------------------------------------------
@pytest.mark.parametrize("query", [INTROSPECTION, TYPE_INTROSPECTION])
def test_introspection_is_rejected_in_production(member, query):
    r = member(query)
    assert_rejected_before_execution(r)
    assert any("introspection" in e["message"].lower() for e in r.errors), r.body
    assert "Member" not in json.dumps(r.body)


@pytest.mark.parametrize("query", [INTROSPECTION, TYPE_INTROSPECTION])
def test_introspection_is_allowed_in_dev(dev_member, query):
    data = dev_member.ok(query)
    if "__schema" in data:
        assert data["__schema"]["queryType"] == {"name": "Query"}
        assert "Member" in {t["name"] for t in data["__schema"]["types"]}
    else:
        assert "referralCode" in {f["name"] for f in data["__type"]["fields"]}


FIELD_TYPOS = ["{ mee { id } }", "{ me { idd } }",
               'mutation { memberEnrol(input: {name: "x", email: "y"}) { userErrors { code } } }']
# Strawberry's `disable_field_suggestions` only covers unknown fields; the other validation
# messages (arguments, input fields, enum values, type names) are cleaned by api.messages.json_response.
OTHER_TYPOS = [
    "{ members(frist: 1) { edges { cursor } } }",  # argument name
    'mutation { memberEnroll(input: {nmae: "x", email: "y"}) { userErrors { code } } }',  # input field
    "{ me { pointsHistory(types: [EARNN]) { edges { cursor } } } }",  # enum value
    "query($f: Itn) { members(first: $f) { edges { cursor } } }",  # type name
]
@pytest.mark.parametrize("query", FIELD_TYPOS + OTHER_TYPOS)
def test_field_suggestions_are_absent_in_production(admin, query):
    r = admin(query)
    assert_rejected_before_execution(r)
    assert "Did you mean" not in json.dumps(r.body)


@pytest.mark.parametrize("query", FIELD_TYPOS + OTHER_TYPOS)
def test_field_suggestions_are_present_in_dev(dev_api, idp, query):
    r = GraphQLClient(dev_api, idp.staff_token("staff-dev", "kizuna-admins"))(query)
    assert_rejected_before_execution(r)
    assert "Did you mean" in json.dumps(r.body)


# -- POST only, JSON only -----------------------------------------------------------------------
def test_get_graphql_with_a_query_is_405(member):
    r = member.raw(json.dumps({"query": ME}).encode(), method="GET")
    assert r.status == 405
    assert r.error_codes() == ["METHOD_NOT_ALLOWED"]
    assert "data" not in r.body


def test_a_mutation_sent_by_get_never_executes(member, asgi, idp, member_id):
    body = json.dumps({"query": ENROLL, "variables": enroll_input()}).encode()
    assert member.raw(body, method="GET").status == 405
    qs = f"query={ENROLL}&variables={json.dumps(enroll_input())}".replace(" ", "+").encode()
    call = AsgiCall(asgi, method="GET", query_string=qs,
                    headers={"authorization": f"Bearer {idp.member_token(member_id)}"}).run()
    assert call.status == 405
    assert call.headers["allow"] == "POST"
    assert member.ok(ME) == {"me": None}  # nothing was written


def test_a_mutation_sent_by_get_never_executes_in_dev_either(dev_member):
    body = json.dumps({"query": ENROLL, "variables": enroll_input()}).encode()
    assert dev_member.raw(body, method="GET").status == 405
    ide = dev_member.raw(body, method="GET", headers={"accept": "text/html"})
    assert ide.status == 200 and "graphiql" in ide.body["raw"].lower()  # the IDE page, not an execution
    assert dev_member.ok(ME) == {"me": None}


@pytest.mark.parametrize("content_type", ["text/plain", "application/graphql", "multipart/form-data; boundary=x",
                                          "application/x-www-form-urlencoded", ""])
def test_a_non_json_content_type_is_415(member, content_type):
    r = member.raw(json.dumps({"query": ME}).encode(), content_type=content_type)
    assert r.status == 415
    assert r.error_codes() == ["UNSUPPORTED_MEDIA_TYPE"]


def test_json_with_a_charset_is_accepted(member):
    r = member.raw(json.dumps({"query": ME}).encode(), content_type="Application/JSON; charset=utf-8")
    assert r.status == 200 and r.data == {"me": None}


@pytest.mark.parametrize("body", [b"{not json", b"\xff\xfe\x00", b"", b"[]", b'"query"', b'{"query": 5}',
                                  b'{"query": "{ me { id } }", "variables": []}'])
def test_a_body_that_is_not_a_graphql_json_object_is_400(member, body):
    r = member.raw(body)
    assert r.status == 400
    assert r.error_codes() == ["BAD_REQUEST"]
    assert "data" not in r.body


# -- unexpected errors --------------------------------------------------------------------------
def test_an_unexpected_resolver_error_is_masked_and_logged_with_the_correlation_id(member, monkeypatch, caplog):
    def broken(self: Members, member_id: str) -> list:
        raise RuntimeError("table exploded: secret-internal-detail")

    monkeypatch.setattr(Members, "dashboard", broken)
    cid = f"cid-{uuid.uuid4().hex}"
    with caplog.at_level(logging.ERROR, logger="kizuna.graphql"):
        r = member(ME, headers={"x-correlation-id": cid})
    assert r.status == 200 and r.data == {"me": None}, r.body
    assert len(r.errors) == 1
    error = r.errors[0]
    assert error["message"] == "Unexpected error."
    assert error["extensions"] == {"code": "INTERNAL", "correlationId": cid}
    assert "secret-internal-detail" not in json.dumps(r.body)
    logged = [rec for rec in caplog.records if getattr(rec, "correlation_id", None) == cid]
    assert len(logged) == 1
    assert logged[0].levelno == logging.ERROR
    assert logged[0].exc_info and logged[0].exc_info[0] is RuntimeError
    assert "secret-internal-detail" in str(logged[0].exc_info[1])


def test_without_the_fault_the_same_query_has_no_errors(member):
    # The control for the masking test: the query itself is fine.
    assert member.ok(ME) == {"me": None}
