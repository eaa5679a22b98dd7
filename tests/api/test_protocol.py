"""GraphQL over HTTP at the protocol edges: every caller mistake is a GraphQL-shaped error with the
status the spec gives it (graphql.github.io/graphql-over-http), never a 5xx, and nothing leaks."""
from __future__ import annotations

import json
import logging
import re
import uuid
from typing import Any

import httpx
import pytest
import strawberry.schema.schema as strawberry_schema

from api.http import Api
from api.messages import Request, Response
from api.runtime import build_services
from tests.conftest import ENROLL, make_settings
from tests.support import GraphQLClient, Result, live_server

ME = "{ me { id } }"
JSON = "application/json"
GRAPHQL_RESPONSE = "application/graphql-response+json"
SAFE_ID = re.compile(r"[A-Za-z0-9._:=-]{1,100}")


def post(client: GraphQLClient, payload: Any, accept: str | None = None) -> tuple[Result, Response]:
    """One request through Api.handle; the Response too, for its headers."""
    headers = {"content-type": JSON}
    if client.token:
        headers["authorization"] = f"Bearer {client.token}"
    if accept is not None:
        headers["accept"] = accept
    body = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
    response = client.api.handle(Request(method="POST", path="/graphql", headers=headers, body=body))
    return Result(response.status, json.loads(response.body)), response


def codes(r: Result) -> list[str | None]:
    return r.error_codes()


def nested_list(depth: int) -> Any:
    value: Any = []
    for _ in range(depth - 1):
        value = [value]
    return value


@pytest.fixture(scope="module")
def dev_api(dynamodb_endpoint, table_name, services, idp, tenants) -> Api:
    settings = make_settings(dynamodb_endpoint, table_name, (idp.issuer_settings(tenants["a"]),), env="dev",
                             default_tenant=tenants["a"])
    return Api(build_services(settings))


# -- 1. empty query, unknown operation ------------------------------------------------------------
@pytest.mark.parametrize("payload, message", [
    ({"query": ""}, "The query is empty."),
    ({"query": ME, "operationName": "Nope"}, 'The document has no operation named "Nope".'),
    ({"query": "query A { me { id } } query B { me { name } }", "operationName": "C"},
     'The document has no operation named "C".'),
    ({"query": "fragment F on Query { me { id } }"}, "The document has no operation to run."),
])
@pytest.mark.parametrize("accept, status", [(JSON, 200), (GRAPHQL_RESPONSE, 400)])
def test_an_empty_query_or_an_operation_name_that_matches_nothing_is_a_request_error(member, payload, message,
                                                                                   accept, status):
    r, _ = post(member, payload, accept)
    assert r.status == status, r.body
    assert r.body == {"errors": [{"message": message, "extensions": {"code": "BAD_REQUEST"}}]}


# -- 2 and 8. JSON depth ------------------------------------------------------------------------------
@pytest.mark.parametrize("body", [
    ("[" * 5000 + "]" * 5000).encode(),  # json.loads itself gives up (RecursionError)
    ('{"query": "%s", "variables": {"v": %s}}' % (ME, "[" * 5000 + "]" * 5000)).encode(),
    json.dumps({"query": ME, "variables": {"v": nested_list(31)}}).encode(),  # 33 levels: the body, variables, 31
], ids=["body-5000", "variables-5000", "variables-33"])
def test_json_nested_deeper_than_32_levels_is_a_400_before_graphql_sees_it(member, body):
    r = member.raw(body)
    assert r.status == 400, r.body
    assert r.body == {"errors": [{"message": "The JSON is nested more than 32 levels deep.",
                                  "extensions": {"code": "BAD_REQUEST"}}]}


def test_json_nested_exactly_32_levels_is_served(member):
    r = member.raw(json.dumps({"query": ME, "variables": {"v": nested_list(30)}}).encode())
    assert (r.status, r.body) == (200, {"data": {"me": None}})


def test_a_5000_deep_json_body_is_a_400_over_uvicorn_too(api):
    deep = "[" * 5000 + "]" * 5000
    with live_server(api) as base:
        response = httpx.post(f"{base}/graphql", content=deep, headers={"content-type": JSON}, timeout=10)
    assert response.status_code == 400, response.text
    assert [e["extensions"]["code"] for e in response.json()["errors"]] == ["BAD_REQUEST"]


# -- 3. unknown fragments -----------------------------------------------------------------------------
@pytest.mark.parametrize("query", ["{ me { ...Nope } }", "{ a: me { ...Nope } }", "query Q { ...Nope }"])
def test_a_spread_of_an_unknown_fragment_is_reported_as_unknown_by_graphql_core(member, query):
    r = member(query)
    assert r.status == 200 and "data" not in r.body, r.body
    assert [e["message"] for e in r.errors] == ["Unknown fragment 'Nope'."]


def test_an_exception_before_execution_is_logged_and_masked_as_a_500(member, monkeypatch, caplog):
    # What a crashing validation rule did (the KeyError above): strawberry returns str(exception) as
    # an error. Whatever raises before execution is our fault, not a request error.
    def broken(*args: Any, **kwargs: Any) -> list:
        raise RuntimeError("secret-internal-detail")

    monkeypatch.setattr(strawberry_schema, "validate", broken)
    cid = f"cid-{uuid.uuid4().hex}"
    with caplog.at_level(logging.ERROR):
        r = member(f"query Probe{uuid.uuid4().hex} {{ me {{ id }} }}", headers={"x-correlation-id": cid})
    assert r.status == 500
    assert r.error_codes() == ["INTERNAL"]
    assert "secret-internal-detail" not in json.dumps(r.body)
    logged = [rec for rec in caplog.records if getattr(rec, "correlation_id", None) == cid]
    assert [rec.levelno for rec in logged] == [logging.ERROR]
    assert logged[0].exc_info and "secret-internal-detail" in str(logged[0].exc_info[1])


# -- 4. suggestions -----------------------------------------------------------------------------------
ENROLL_TYPO = {"input": {"name": "Typo", "email": "typo@example.com", "refferalCode": "x"}}
HISTORY = "query($t: [EntryType!]) { me { pointsHistory(types: $t) { edges { cursor } } } }"


@pytest.mark.parametrize("query, variables, hint", [
    (ENROLL, ENROLL_TYPO, "Did you mean 'referralCode'?"),
    (HISTORY, {"t": ["EARNN"]}, "Did you mean the enum value 'EARN'?"),
], ids=["input-field", "enum-value"])
def test_variable_coercion_errors_carry_no_suggestions_in_production_but_do_in_dev(member, dev_api, idp, member_id,
                                                                                   query, variables, hint):
    production = member(query, variables)
    assert production.status == 200 and "data" not in production.body, production.body
    assert "Did you mean" not in json.dumps(production.body)
    dev = GraphQLClient(dev_api, idp.member_token(member_id))(query, variables)
    assert "data" not in dev.body
    assert hint in json.dumps(dev.body)
    # the same errors, less the hint
    assert [e["message"] for e in production.errors] == [e["message"].replace(f" {hint}", "") for e in dev.errors]


# -- 5. correlation ids -------------------------------------------------------------------------------
@pytest.mark.parametrize("given", ["abc\r\nset-cookie: session=evil", "abc\ndef", "a" * 101, "id with spaces",
                                   "ünïcode", ""])
def test_an_unsafe_client_correlation_id_is_replaced_never_echoed(api, given):
    request_id = f"Ab{uuid.uuid4().hex[:10]}="
    headers = {"content-type": JSON, "x-correlation-id": given}
    body = json.dumps({"query": ME}).encode()
    from_gateway = api.handle(Request("POST", "/graphql", headers, body, aws_request_id=request_id))
    assert from_gateway.headers["x-correlation-id"] == request_id
    local = api.handle(Request("POST", "/graphql", headers, body)).headers["x-correlation-id"]
    assert SAFE_ID.fullmatch(local) and local != given


def test_a_safe_client_correlation_id_is_kept(api):
    given = f"order-svc:{uuid.uuid4()}"
    response = api.handle(Request("POST", "/graphql", {"content-type": JSON, "x-correlation-id": given},
                                  json.dumps({"query": ME}).encode(), aws_request_id="Gateway123="))
    assert response.headers["x-correlation-id"] == given


# -- 7. media types and status codes ------------------------------------------------------------------
@pytest.mark.parametrize("accept, media", [
    (None, JSON), ("", JSON), ("*/*", JSON), ("application/*", JSON), (JSON, JSON),
    (GRAPHQL_RESPONSE, GRAPHQL_RESPONSE),
    (f"{GRAPHQL_RESPONSE}, {JSON};q=0.9", GRAPHQL_RESPONSE),  # what the spec and Apollo send
    (f"{JSON}, {GRAPHQL_RESPONSE}", JSON),  # equal q: the one listed first
    (f"{JSON};q=0.5, {GRAPHQL_RESPONSE}", GRAPHQL_RESPONSE),
    (f"{GRAPHQL_RESPONSE};q=0.5, */*", JSON),
    (f"text/html, {GRAPHQL_RESPONSE};charset=utf-8", GRAPHQL_RESPONSE),
    (f"{JSON};q=0, */*", GRAPHQL_RESPONSE),  # the specific range wins over */*
])
def test_the_response_media_type_follows_accept(member, accept, media):
    r, response = post(member, {"query": ME}, accept)
    assert (r.status, r.body) == (200, {"data": {"me": None}})
    assert response.headers["content-type"] == media


@pytest.mark.parametrize("accept", ["text/html", f"{JSON};q=0", f"{JSON};q=0, {GRAPHQL_RESPONSE};q=0",
                                    "application/xml, text/*", "*/*;q=0"])
def test_a_client_that_accepts_neither_media_type_gets_406(member, accept):
    r, _ = post(member, {"query": ENROLL, "variables": {"input": {"name": "N", "email": "n@example.com"}}}, accept)
    assert r.status == 406
    assert codes(r) == ["NOT_ACCEPTABLE"]
    assert post(member, {"query": ME})[0].body == {"data": {"me": None}}  # nothing was enrolled


@pytest.mark.parametrize("body", [b"{not json", b"[]", b'{"query": 5}', b'{"query": "{ me { id } }", "variables": 1}',
                                  b'{"query": "{ me { id } }", "operationName": 1}'])
@pytest.mark.parametrize("accept", [JSON, GRAPHQL_RESPONSE])
def test_a_request_that_is_not_well_formed_is_a_400_for_both_media_types(member, body, accept):
    r, response = post(member, body, accept)
    assert r.status == 400
    assert codes(r) == ["BAD_REQUEST"] and "data" not in r.body
    assert response.headers["content-type"] == accept


@pytest.mark.parametrize("query, variables", [
    ("{ me { id ", None),  # parse error
    ("{ me { nope } }", None),  # validation error
    ("query($n: Int!) { members(first: $n) { edges { cursor } } }", {"n": "many"}),  # variable coercion
], ids=["parse", "validation", "variables"])
@pytest.mark.parametrize("accept, status", [(JSON, 200), (GRAPHQL_RESPONSE, 400)])
def test_a_request_error_has_no_data_and_is_400_only_for_graphql_response_json(admin, query, variables, accept,
                                                                               status):
    r, response = post(admin, {"query": query, "variables": variables}, accept)
    assert r.status == status, r.body
    assert "data" not in r.body and r.errors
    assert response.headers["content-type"] == accept


# The repros of a field error answered 400: an authorization error on a non-null root field nulls the
# whole `data`, but it is still a field error (execution ran, `data` is there), so it is a 200 for
# both media types, and the message and code reach Apollo, urql, Relay and gql as GraphQL errors.
NON_NULL_ROOT_REFUSALS = [
    ("member", "{ members(first: 1) { edges { cursor } } }", "members", "FORBIDDEN",
     "You are not allowed to do this."),
    ("anonymous", 'mutation { rewardRedeem(rewardId: "r-1") { userErrors { code } } }', "rewardRedeem",
     "UNAUTHENTICATED", "Sign in to do this."),
    ("anonymous", "{ members(first: 1) { edges { cursor } } }", "members", "UNAUTHENTICATED", "Sign in to do this."),
]


@pytest.mark.parametrize("caller, query, field, code, message", NON_NULL_ROOT_REFUSALS,
                         ids=["members-as-member", "rewardRedeem-without-token", "members-without-token"])
@pytest.mark.parametrize("accept", [JSON, GRAPHQL_RESPONSE])
def test_an_authorization_error_on_a_non_null_root_field_is_a_200_with_data_null(client, enrolled, accept, caller,
                                                                                 query, field, code, message):
    r, response = post(enrolled if caller == "member" else client, {"query": query}, accept)
    assert r.status == 200, r.body
    assert "data" in r.body and r.body["data"] is None
    assert [(e["message"], e["extensions"]["code"], e["path"]) for e in r.errors] == [(message, code, [field])]
    assert response.headers["content-type"] == accept


@pytest.mark.parametrize("accept", [JSON, GRAPHQL_RESPONSE])
def test_the_same_error_on_a_nullable_root_field_is_a_200_too(client, accept):
    # `me` is nullable: the error nulls only `me`. Same status as above: it depends on the `data` entry only.
    r, response = post(client, {"query": ME}, accept)
    assert (r.status, r.body["data"]) == (200, {"me": None}), r.body
    assert [(e["message"], e["extensions"]["code"]) for e in r.errors] == [("Sign in to do this.", "UNAUTHENTICATED")]
    assert response.headers["content-type"] == accept


@pytest.mark.parametrize("extensions", ['"x"', "1", "true", "[]"])
@pytest.mark.parametrize("accept", [JSON, GRAPHQL_RESPONSE])
def test_extensions_that_are_not_an_object_make_a_request_that_is_not_well_formed(member, extensions, accept):
    r, _ = post(member, f'{{"query": "{ME}", "extensions": {extensions}}}'.encode(), accept)
    assert r.status == 400, r.body
    assert r.body == {"errors": [{"message": "`extensions` must be an object.", "extensions": {"code": "BAD_REQUEST"}}]}


@pytest.mark.parametrize("extensions", ["null", "{}", '{"persistedQuery": {"version": 1}}'])
def test_extensions_that_are_an_object_or_null_are_served(member, extensions):
    r, _ = post(member, f'{{"query": "{ME}", "extensions": {extensions}}}'.encode())
    assert (r.status, r.body) == (200, {"data": {"me": None}})


def test_requests_stay_application_json_only(member):
    r, _ = post(member, {"query": ME})
    assert r.status == 200
    refused = member.raw(json.dumps({"query": ME}).encode(), content_type=GRAPHQL_RESPONSE)
    assert refused.status == 415 and refused.error_codes() == ["UNSUPPORTED_MEDIA_TYPE"]
