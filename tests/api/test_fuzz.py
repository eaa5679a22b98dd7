"""Schema fuzzing: every root Query and Mutation field, as every kind of caller, in production mode.

hypothesis-graphql writes operations from the live schema (`build_schema()`, the schema that
`schema.graphql` is printed from), so a new root field is fuzzed as soon as it exists. There is one
test per (principal, root field), plus one per principal whose operations mix any root fields.
Argument values come from strategies for our scalars that mix valid values with hostile ones: 3,000
character strings, '#', CR/LF and NUL, key-shaped ids, out-of-range dates, NaN/Infinity/1e999
decimals, negative and huge ints, forged and replayed cursors. Each operation is sent through
`Api.handle` (GraphQLClient.raw) against DynamoDB Local, with its arguments inline or, at random,
hoisted into variables (the two coercion paths differ), and must answer:

- an HTTP status of 200 (400 only for a request error to an application/graphql-response+json
  client; 413 only when the body is over the limit), never 5xx;
- no error with `extensions.code == "INTERNAL"`;
- none of "Traceback", "T#", '"PK"', "pynamodb", "botocore", "Did you mean" in the body (unless
  the caller sent that text itself and the body only echoes it back).

A failure shows the operation, its variables, the principal and every warning or error the API
logged (with tracebacks).

The fuzz runs on its own tenant (same table, same issuer keys) so that the programs, rewards and
members it writes never meet other tests' data; nothing is cleaned up.

KIZUNA_FUZZ_EXAMPLES sets the number of operations per (principal, field) test (default 6: about
1,200 operations, around a minute with `-n 2`). Raise it for a deeper run, e.g.
`KIZUNA_FUZZ_EXAMPLES=200 .venv/bin/python -m pytest -q -n 2 tests/api/test_fuzz.py`.
KIZUNA_FUZZ_SHRINK=1 lets Hypothesis shrink a failure to a minimal operation (slow: minutes per failing
test); without it a failure shows the first operation that failed, as generated.
Each test prints its operation count, and the module prints the totals per principal at the end
(see them with `-rP`, or `-s` without xdist).
"""
from __future__ import annotations

import base64
import json
import logging
import os
import uuid
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from typing import Any, Callable, Iterator

import graphql
import pytest
from graphql import language as gl
from hypothesis import HealthCheck, Phase, given, settings, strategies as st
from hypothesis_graphql import from_schema, mutations, nodes, queries

from api.dev_idp import DevIdentityProvider
from api.http import Api
from api.messages import GRAPHQL_RESPONSE, JSON
from api.runtime import Services, build_services
from resolvers.schema import build_schema
from tests.conftest import enroll, make_settings
from tests.support import GraphQLClient, new_tenant

EXAMPLES = int(os.environ.get("KIZUNA_FUZZ_EXAMPLES", "6"))
# Shrinking replays a failing test hundreds of times (up to 5 minutes per test); off unless asked for.
PHASES = tuple(Phase) if os.environ.get("KIZUNA_FUZZ_SHRINK") else (Phase.explicit, Phase.reuse, Phase.generate)
LEAK_MARKERS = ("Traceback", "T#", '"PK"', "pynamodb", "botocore", "Did you mean")

SCHEMA = graphql.build_schema(build_schema().as_str())
assert SCHEMA.query_type is not None and SCHEMA.mutation_type is not None
QUERY_FIELDS = sorted(SCHEMA.query_type.fields)
MUTATION_FIELDS = sorted(SCHEMA.mutation_type.fields)
ALL = "*"  # operations that mix any root fields, queries and mutations

PRINCIPALS = ("anonymous", "enrolled", "not_enrolled", "admin", "moderator", "event_staff", "service", "partner")
OPS: Counter[str] = Counter()  # operations sent, per principal (per xdist worker)
RAN: set[str] = set()  # principals whose tests ran here

# Values that exist in the fuzz tenant (seeded below), so that generated operations reach past
# "not found" now and then.
ENROLLED_ID = f"fz-{uuid.uuid4().hex[:10]}"
REWARD_ID = "fuzz-reward"
ORDER_ID = f"fz-order-{uuid.uuid4().hex[:8]}"


# -- scalar strategies ---------------------------------------------------------------------------
def _b64(raw: str, urlsafe: bool = False) -> str:
    enc = base64.urlsafe_b64encode if urlsafe else base64.b64encode
    return enc(raw.encode()).decode()


FORGED_CURSORS = [
    _b64('{"PK":{"S":"T#x#M#y"}}'),
    _b64('{"PK":{"S":"T#x#M#y"}}', urlsafe=True).rstrip("="),
    _b64('{"PK":{"S":"T#x#M#y"},"SK":{"S":"PROFILE"}}'),
    _b64('{"PK":{"N":"1e999"}}'),
    _b64("[]"), _b64("null"), _b64("\x00" * 64), _b64("not json"),
    "v1." + "A" * 80, "====", "%%%", "",
]
# filled in by the seed fixture: real cursors from other callers and other connections
REAL_CURSORS: list[str] = []
KNOWN_IDS = [ENROLLED_ID, REWARD_ID, ORDER_ID, "1", "2", "free-shipping", "review", "demo-member-1"]
KNOWN_CODES: list[str] = []  # a coupon code, a referral code

HOSTILE_TEXT = [
    "x" * 3000, "#" * 3000, "é" * 3000, "\r\n" * 1500, "a\x00b", "\x00", "\r\n", "line\nbreak", "\t",
    "#", "x#M#y", "M#" + ENROLLED_ID, "TENANT#x#MEMBER#y", "PROFILE", "a#b#c", "../../etc/passwd",
    "'; DROP TABLE kizuna; --", '{"S": "x"}', "${jndi:ldap://x}", "<script>alert(1)</script>",
    "\u202e\u200b\ufeff", "\U0001f600" * 10, "  ", "", " padded ", "UPPER-CASE", "Ⅻ", "İ",
]
VALID_TEXT = [
    "Aiko", "review", "birthday", "JPY", "USD", "jpy", "Asia/Tokyo", "UTC", "apparel", "TEE",
    "a@example.com", "Fuzz@Example.COM", "gold", "free-shipping", "idem-key-1", "seed",
]


def _not_a_marker(s: str) -> bool:
    return not any(m in s for m in LEAK_MARKERS)


def _texts() -> st.SearchStrategy[str]:
    random = st.text(st.characters(codec="utf-8", blacklist_categories=["Cs"]), max_size=40).filter(_not_a_marker)
    return st.one_of(
        st.sampled_from(VALID_TEXT),
        st.sampled_from(HOSTILE_TEXT),
        st.sampled_from(KNOWN_IDS),
        st.deferred(lambda: st.sampled_from(KNOWN_CODES or ["NOCODE"])),
        st.sampled_from(FORGED_CURSORS),
        st.deferred(lambda: st.sampled_from(REAL_CURSORS or ["none"])),
        random,
        st.tuples(st.sampled_from(HOSTILE_TEXT), random).map("".join),
        st.just("T#x#M#y"),  # a key-shaped id; echoed back it is not a leak (see _leaks)
    )


def _ints() -> st.SearchStrategy[int]:
    return st.one_of(
        st.integers(-3, 200),
        st.sampled_from([0, -1, 100, 101, 1000, 10**6, 2**31 - 1, -(2**31), 2**31, 2**53, -(2**63), 10**30]),
        st.integers(-(2**31), 2**31 - 1),
    )


def _datetimes() -> st.SearchStrategy[str]:
    now = datetime.now(timezone.utc)
    zones = st.sampled_from([timezone.utc, timezone(timedelta(hours=14)), timezone(timedelta(hours=-12)),
                             timezone(timedelta(hours=9))])
    return st.one_of(
        st.sampled_from([
            now.isoformat(), (now - timedelta(days=40)).isoformat(), (now + timedelta(days=3)).isoformat(),
            now.strftime("%Y-%m-%dT%H:%M:%SZ"), "2026-01-01T00:00:00Z",
            "9999-12-31T00:00:00Z", "0001-01-01T00:00:00+14:00", "0001-01-01T00:00:00Z", "1999-12-31T23:59:59Z",
            "2100-01-01T00:00:00Z", "2099-12-31T23:59:59-12:00", "2000-01-01T00:00:00+14:00",
            "2026-02-30T00:00:00Z", "2026-06-30T23:59:60Z", "2026-01-01T00:00:00", "2026-01-01",
            "2026-01-01T00:00:00+25:00", "2026-01-01T00:00:00.123456789Z", "+002026-01-01T00:00:00Z",
            "-2026-01-01T00:00:00Z", "now", "", "2026-01-01T00:00:00Z\x00", "1" * 3000,
        ]),
        st.datetimes(timezones=zones).map(datetime.isoformat),
        st.datetimes().map(datetime.isoformat),  # naive
    )


def _dates() -> st.SearchStrategy[str]:
    return st.one_of(
        st.sampled_from(["1990-05-17", "2000-02-29", "2001-02-29", "1900-01-01", "1899-12-31", "2099-12-31",
                         "2100-01-01", "9999-12-31", "0001-01-01", "0000-00-00", "2026-13-01", "-0001-01-01",
                         "20260101", "2026-1-1", "1990-05-17T00:00:00Z", "", "9" * 3000]),
        st.dates().map(lambda d: d.isoformat()),
    )


def _decimals() -> st.SearchStrategy[str]:
    return st.one_of(
        st.sampled_from(["12.50", "1", "0", "100", "0.5", "1.000001", "-1", "-0", "0.0000001",
                         "999999999999.999999", "1000000000000", "NaN", "-NaN", "sNaN", "Infinity",
                         "-Infinity", "inf", "1e999", "1E-999", "1e2", "0x10", "1_000", " 1", "1 ", "١٢",
                         "", ".", "-", "1.2.3", "9" * 3000, "0." + "1" * 3000]),
        st.decimals(allow_nan=True, allow_infinity=True).map(str),
    )


def _json_values() -> st.SearchStrategy[graphql.ValueNode]:
    leaves = st.one_of(st.none().map(lambda _: nodes.Null), st.booleans().map(nodes.Boolean),
                       _ints().map(nodes.Int), _texts().map(nodes.String))
    return st.recursive(
        leaves,
        lambda children: st.one_of(
            st.lists(children, max_size=4).map(nodes.List),
            st.lists(st.tuples(st.from_regex(r"[A-Za-z_][A-Za-z0-9_]{0,8}", fullmatch=True), children),
                     max_size=4, unique_by=lambda kv: kv[0]).map(
                lambda kvs: nodes.Object([gl.ObjectFieldNode(name=gl.NameNode(value=k), value=v) for k, v in kvs])),
        ),
        max_leaves=8,
    )


def _decimal_nodes() -> st.SearchStrategy[graphql.ValueNode]:
    return st.one_of(
        _decimals().map(nodes.String),
        _decimals().map(nodes.String),
        st.sampled_from(["1e999", "-1e999", "1.5", "0.1", "1e-7"]).map(lambda v: gl.FloatValueNode(value=v)),
        _ints().map(nodes.Int),
        st.booleans().map(nodes.Boolean),  # wrong JSON type: a coercion error, not a crash
    )


CUSTOM_SCALARS: dict[str, st.SearchStrategy[graphql.ValueNode]] = {
    "String": _texts().map(nodes.String),
    "ID": st.one_of(_texts().map(nodes.String), _texts().map(nodes.String), _ints().map(nodes.Int)),
    "Int": _ints().map(nodes.Int),
    "DateTime": st.one_of(_datetimes().map(nodes.String), _datetimes().map(nodes.String),
                          _ints().map(nodes.Int)),
    "Date": _dates().map(nodes.String),
    "Decimal": _decimal_nodes(),
    "JSON": _json_values(),
}


def _documents(field_name: str) -> st.SearchStrategy[str]:
    # Printed, not as a DocumentNode: on a failure Hypothesis pretty-prints the draws, and it would spend
    # a minute describing a syntax tree as the calls that built it.
    kw: dict[str, Any] = dict(custom_scalars=CUSTOM_SCALARS)
    if field_name == ALL:
        return from_schema(SCHEMA, **kw)
    if field_name in SCHEMA.query_type.fields:  # type: ignore[union-attr]
        return queries(SCHEMA, fields=(field_name,), **kw)
    return mutations(SCHEMA, fields=(field_name,), **kw)


STRATEGIES = {name: _documents(name) for name in [*QUERY_FIELDS, *MUTATION_FIELDS, ALL]}


# -- inline arguments to variables ---------------------------------------------------------------
class _Hoist(graphql.Visitor):
    """Moves chosen arguments into variables of their declared type."""

    def __init__(self, type_info: graphql.TypeInfo, choose: Callable[[], bool]):
        super().__init__()
        self.type_info = type_info
        self.choose = choose
        self.variables: dict[str, Any] = {}
        self.definitions: list[gl.VariableDefinitionNode] = []

    def enter_argument(self, node: gl.ArgumentNode, *_: Any) -> Any:
        arg = self.type_info.get_argument()
        if arg is None or not self.choose():
            return None
        name = f"v{len(self.definitions)}"
        self.variables[name] = graphql.value_from_ast_untyped(node.value)
        var = gl.VariableNode(name=gl.NameNode(value=name))
        self.definitions.append(gl.VariableDefinitionNode(variable=var, type=graphql.parse_type(str(arg.type)),
                                                          directives=()))
        return gl.ArgumentNode(name=node.name, value=var)


def to_request(operation: str, choose: Callable[[], bool]) -> tuple[str, dict[str, Any]]:
    type_info = graphql.TypeInfo(SCHEMA)
    hoist = _Hoist(type_info, choose)
    doc = graphql.visit(graphql.parse(operation), graphql.TypeInfoVisitor(type_info, hoist))
    if hoist.definitions:
        (op,) = doc.definitions
        op = gl.OperationDefinitionNode(operation=op.operation, name=gl.NameNode(value="Fuzz"),
                                        variable_definitions=tuple(hoist.definitions),
                                        directives=op.directives, selection_set=op.selection_set)
        doc = gl.DocumentNode(definitions=(op,))
    return graphql.print_ast(doc), hoist.variables


# -- the fuzz tenant ---------------------------------------------------------------------------
@dataclass(repr=False)
class Fuzz:
    api: Api
    idp: DevIdentityProvider
    tokens: dict[str, str | None] = field(default_factory=dict)

    def __repr__(self) -> str:
        return f"Fuzz(tenant={self.api.settings.default_tenant!r})"

    def client(self, principal: str) -> GraphQLClient:
        if principal == "not_enrolled":  # a new sub each time: an earlier memberEnroll must not enroll it
            return GraphQLClient(self.api, self.idp.member_token(f"fz-new-{uuid.uuid4().hex[:10]}"))
        return GraphQLClient(self.api, self.tokens[principal])


@pytest.fixture(scope="module")
def fuzz(dynamodb_endpoint: str, table_name: str, services: Services, idp: DevIdentityProvider) -> Iterator[Fuzz]:
    """A tenant of its own on the session's table (`services` makes sure the table exists), in production
    mode, trusting the session's IdP keys; seeded with a member, a reward, a coupon and an order."""
    del services
    tenant = new_tenant()
    settings = make_settings(dynamodb_endpoint, table_name, (idp.issuer_settings(tenant),), default_tenant=tenant)
    assert not settings.dev
    f = Fuzz(Api(build_services(settings)), idp, {
        "anonymous": None,
        "enrolled": idp.member_token(ENROLLED_ID),
        "admin": idp.staff_token("fz-admin", "kizuna-admins"),
        "moderator": idp.staff_token("fz-moderator", "kizuna-moderators"),
        "event_staff": idp.staff_token("fz-event-staff", "kizuna-event-staff"),
        "service": idp.service_token(),
        "partner": idp.partner_token("acme"),
    })
    admin, member, service = f.client("admin"), f.client("enrolled"), f.client("service")
    me = enroll(member, name="Fuzz", email=f"{ENROLLED_ID}@example.com")
    KNOWN_CODES.append(me["referralCode"])
    saved = admin.ok("""mutation { rewardSave(input: {id: "%s", name: "Fuzz", kind: FREE_SHIPPING, pointsCost: 10}) {
        reward { id } userErrors { code } } }""" % REWARD_ID)["rewardSave"]
    assert saved["userErrors"] == [], saved
    adjusted = admin.ok("""mutation { pointsAdjust(memberId: "%s", points: 500, reason: "seed") {
        userErrors { code } } }""" % ENROLLED_ID)["pointsAdjust"]
    assert adjusted["userErrors"] == [], adjusted
    for key in ("fz-seed-1", "fz-seed-2"):
        redeemed = member.ok("""mutation { rewardRedeem(rewardId: "%s", idempotencyKey: "%s") {
            redemption { code } userErrors { code } } }""" % (REWARD_ID, key))["rewardRedeem"]
        assert redeemed["userErrors"] == [], redeemed
        KNOWN_CODES.append(redeemed["redemption"]["code"])
    order = service.ok("""mutation O($input: OrderInput!) { orderRecord(input: $input) { userErrors { code } } }""",
                       {"input": {"orderId": ORDER_ID, "currency": "JPY", "memberId": ENROLLED_ID,
                                  "orderedAt": datetime.now(timezone.utc).isoformat(), "subtotal": "5000",
                                  "total": "5500", "lines": [{"id": "1", "quantity": 1, "price": "5000"}]}})
    assert order["orderRecord"]["userErrors"] == [], order
    # real cursors, to replay against other lists and as other callers
    for c, q in ((admin, "{ members(first: 1) { pageInfo { endCursor } } }"),
                 (admin, "{ auditTrail(first: 1) { pageInfo { endCursor } } }"),
                 (member, "{ me { pointsHistory(first: 1) { pageInfo { endCursor } } } }"),
                 (member, "{ me { redemptions(first: 1) { pageInfo { endCursor } } } }")):
        REAL_CURSORS.extend(v for v in _strings(c.ok(q)) if v and len(v) > 20)
    assert REAL_CURSORS, "no cursors to replay"
    yield f
    print(f"\nfuzz operations per principal (this worker): {dict(OPS)}")
    assert all(OPS[p] > 0 for p in RAN), (dict(OPS), RAN)


def _strings(value: Any) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, dict):
        return [s for v in value.values() for s in _strings(v)]
    if isinstance(value, list):
        return [s for v in value for s in _strings(v)]
    return []


# -- checks -------------------------------------------------------------------------------------
def _echo_forms(s: str) -> set[str]:
    """How a string the caller sent can come back inside a JSON body: as itself, or quoted in a GraphQL
    message (GraphQL string escaping), each then JSON-escaped."""
    forms = {s, graphql.print_ast(gl.StringValueNode(value=s))}
    return {json.dumps(x)[1:-1] for x in forms} | {json.dumps(x, ensure_ascii=False)[1:-1] for x in forms}


def _leaks(body: str, sent: list[str]) -> list[str]:
    found = [m for m in LEAK_MARKERS if m in body]
    if not found:
        return []
    for s in sorted((s for s in sent if any(m in s for m in found)), key=len, reverse=True):
        for form in sorted(_echo_forms(s), key=len, reverse=True):
            body = body.replace(form, "")
    return [m for m in LEAK_MARKERS if m in body]


def _sent_strings(doc_text: str, variables: dict[str, Any]) -> list[str]:
    literals: list[str] = []

    class Collect(graphql.Visitor):
        def enter_string_value(self, node: gl.StringValueNode, *_: Any) -> None:
            literals.append(node.value)

    graphql.visit(graphql.parse(doc_text), Collect())
    return literals + _strings(variables)


def _codes(errors: list[dict[str, Any]]) -> list[Any]:
    return [(e.get("extensions") or {}).get("code") for e in errors]


@pytest.mark.parametrize("principal", PRINCIPALS)
@pytest.mark.parametrize("root_field", [*QUERY_FIELDS, *MUTATION_FIELDS, ALL])
@settings(max_examples=EXAMPLES, deadline=None, database=None, phases=PHASES,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow,
                                 HealthCheck.data_too_large, HealthCheck.filter_too_much])
@given(data=st.data())
def test_fuzz(fuzz: Fuzz, principal: str, root_field: str, caplog: pytest.LogCaptureFixture, data: st.DataObject):
    RAN.add(principal)
    operation = data.draw(STRATEGIES[root_field], label="operation")
    mode = data.draw(st.sampled_from(["inline", "variables", "mixed"]), label="arguments")
    rnd = data.draw(st.randoms(use_true_random=False), label="which arguments")
    query, variables = to_request(operation, {"inline": lambda: False, "variables": lambda: True,
                                        "mixed": lambda: rnd.random() < 0.5}[mode])
    accept = data.draw(st.sampled_from([JSON, GRAPHQL_RESPONSE]), label="accept")
    body = json.dumps({"query": query, "variables": variables}).encode()

    caplog.clear()
    with caplog.at_level(logging.INFO):
        import time as _t; _t0 = _t.perf_counter()
        result = fuzz.client(principal).raw(body, headers={"accept": accept})
        print("TIMING", round(_t.perf_counter() - _t0, 3), len(body), result.status, query[:300].replace(chr(10), " "), file=__import__("sys").stderr)
    OPS[principal] += 1
    OPS[f"{principal} {root_field}"] += 1
    text = json.dumps(result.body)
    logged = "\n".join(f"{r.levelname} {r.name}: {r.getMessage()}" + (f"\n{caplog.handler.formatter.formatException(r.exc_info)}" if r.exc_info else "")
                       for r in caplog.records if r.levelno >= logging.WARNING)
    context = (f"\nprincipal: {principal}\naccept: {accept}\nquery: {query}\n"
               f"variables: {json.dumps(variables)[:4000]}\nstatus: {result.status}\nresponse: {text[:4000]}\n"
               f"logged:\n{logged}")

    assert result.status < 500, context
    assert "INTERNAL" not in _codes(result.errors), context
    leaks = _leaks(text, _sent_strings(query, variables))
    assert not leaks, f"leaked {leaks}{context}"
    max_body = fuzz.api.settings.max_body_bytes
    if len(body) > max_body:
        assert result.status == 413, context
    elif result.status == 400:
        assert accept == GRAPHQL_RESPONSE and "data" not in result.body, context
    else:
        assert result.status == 200, context
    print(f"fuzz {principal} {root_field}: {OPS[f'{principal} {root_field}']} operations")
