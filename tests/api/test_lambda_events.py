"""The Lambda handler end to end: API Gateway HTTP API (payload v2) events in, Lambda proxy responses out."""
from __future__ import annotations

import base64
import importlib
import json
import logging
import sys
import uuid
from types import ModuleType, SimpleNamespace
from typing import Any, Iterator

import pytest

from infra.items import TableItem
from tests.aws_events import http_api_event
from tests.conftest import ENROLL

ME = "{ me { memberId name } }"
MIB = 1024 * 1024


@pytest.fixture(scope="module")
def lambda_module(dynamodb_endpoint, table_name, services, idp, tenants) -> Iterator[ModuleType]:
    """Import api.lambda_handler as Lambda does: configuration in the environment first, then import.

    The import rebinds the models' global table binding, so it is pointed at the session's own table
    and endpoint: the other tests keep reading and writing the same place.
    """
    issuers = [{"issuer": idp.issuer, "tenant": tenants["a"], "audience": idp.audience, "jwks": idp.jwks,
                "role_map": {"kizuna-admins": "admin"}}]
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("KIZUNA_TABLE", table_name)
        mp.setenv("KIZUNA_DYNAMODB_ENDPOINT", dynamodb_endpoint)
        mp.setenv("KIZUNA_ISSUERS", json.dumps(issuers))
        mp.setenv("KIZUNA_DEFAULT_TENANT", tenants["a"])
        mp.setenv("AWS_REGION", "us-east-1")
        mp.delenv("KIZUNA_ENV", raising=False)
        mp.delenv("KIZUNA_STAGE_TENANTS", raising=False)
        if "api.lambda_handler" in sys.modules:
            module = importlib.reload(sys.modules["api.lambda_handler"])
        else:
            module = importlib.import_module("api.lambda_handler")
        yield module


def lambda_context(request_id: str) -> SimpleNamespace:
    return SimpleNamespace(function_name="kizuna-api", memory_limit_in_mb=512, aws_request_id=request_id,
                           invoked_function_arn="arn:aws:lambda:us-east-1:123456789012:function:kizuna-api")


def graphql_body(query: str, variables: dict[str, Any] | None = None) -> bytes:
    return json.dumps({"query": query, "variables": variables or {}}).encode()


def invoke(module: ModuleType, event: dict[str, Any]) -> dict[str, Any]:
    return module.handler(event, lambda_context(event["requestContext"]["requestId"]))


def body_of(response: dict[str, Any]) -> dict[str, Any]:
    raw = base64.b64decode(response["body"]) if response.get("isBase64Encoded") else response["body"]
    return json.loads(raw)


def test_importing_the_handler_binds_the_models_to_the_session_table(lambda_module, table_name, dynamodb_endpoint,
                                                                     tenants):
    assert TableItem.Meta.table_name == table_name
    assert TableItem.Meta.host == dynamodb_endpoint
    assert lambda_module.services.settings.default_tenant == tenants["a"]
    assert lambda_module.services.settings.env == "production"


def test_a_plain_body_event_gets_a_graphql_response(lambda_module, idp, member_id):
    response = invoke(lambda_module, http_api_event(graphql_body(ME), token=idp.member_token(member_id)))
    assert response["statusCode"] == 200
    assert response["headers"]["content-type"] == "application/json"
    assert response.get("isBase64Encoded") is False
    assert body_of(response) == {"data": {"me": None}}


def test_a_base64_body_event_is_decoded_and_writes_reach_the_shared_table(lambda_module, idp, member_id, client):
    email = f"{uuid.uuid4().hex[:10]}@example.com"
    variables = {"input": {"name": "Lambda Lena", "email": email}}
    response = invoke(lambda_module, http_api_event(graphql_body(ENROLL, variables), base64_body=True,
                                                    token=idp.member_token(member_id)))
    assert response["statusCode"] == 200
    payload = body_of(response)["data"]["memberEnroll"]
    assert payload["userErrors"] == [] and payload["member"]["memberId"] == member_id
    # The same member through the in-process API used by every other test: one table.
    assert client.as_(idp.member_token(member_id)).ok(ME) == {"me": {"memberId": member_id, "name": "Lambda Lena"}}


def test_a_named_stage_path_is_routed_without_the_stage_prefix(lambda_module, idp, member_id):
    event = http_api_event(graphql_body(ME), path="/prod/graphql", stage="prod", token=idp.member_token(member_id))
    response = invoke(lambda_module, event)
    assert response["statusCode"] == 200, response
    assert body_of(response) == {"data": {"me": None}}
    health = invoke(lambda_module, http_api_event(method="GET", path="/prod/health", stage="prod"))
    assert (health["statusCode"], body_of(health)) == (200, {"ok": True})
    missing = invoke(lambda_module, http_api_event(graphql_body(ME), path="/prod/nowhere", stage="prod"))
    assert missing["statusCode"] == 404


def test_the_default_stage_routes_the_raw_path(lambda_module, idp, member_id):
    response = invoke(lambda_module, http_api_event(graphql_body(ME), stage="$default",
                                                    token=idp.member_token(member_id)))
    assert response["statusCode"] == 200
    assert body_of(response) == {"data": {"me": None}}
    # Under $default nothing is stripped: a stage-looking prefix is just an unknown path.
    prefixed = invoke(lambda_module, http_api_event(graphql_body(ME), path="/prod/graphql", stage="$default"))
    assert prefixed["statusCode"] == 404


def test_the_request_id_comes_back_as_the_correlation_id(lambda_module, idp, member_id):
    request_id = f"Ab{uuid.uuid4().hex[:10]}="
    ok = invoke(lambda_module, http_api_event(graphql_body(ME), request_id=request_id,
                                              token=idp.member_token(member_id)))
    assert ok["headers"]["x-correlation-id"] == request_id
    assert lambda_module.logger.get_correlation_id() == request_id  # and the structured logs carry it

    refused_id = f"Cd{uuid.uuid4().hex[:10]}="
    refused = invoke(lambda_module, http_api_event(graphql_body(ME), request_id=refused_id, token="not-a-token"))
    assert refused["statusCode"] == 401
    assert refused["headers"]["x-correlation-id"] == refused_id
    assert [e["extensions"]["code"] for e in body_of(refused)["errors"]] == ["UNAUTHENTICATED"]


def test_an_unexpected_resolver_error_through_lambda_carries_the_request_id(lambda_module, idp, member_id,
                                                                             monkeypatch):
    from infra.members import Members

    def broken(self: Members, member_id: str) -> list:
        raise RuntimeError("boom")

    monkeypatch.setattr(Members, "dashboard", broken)
    request_id = f"Ef{uuid.uuid4().hex[:10]}="
    response = invoke(lambda_module, http_api_event(graphql_body(ME), request_id=request_id,
                                                    token=idp.member_token(member_id)))
    error = body_of(response)["errors"][0]
    assert error["message"] == "Unexpected error."
    assert error["extensions"] == {"code": "INTERNAL", "correlationId": request_id}


def test_a_1_mib_base64_body_is_rejected_with_413(lambda_module, idp, member_id):
    body = json.dumps({"query": ME}).encode()
    body += b" " * (MIB - len(body))
    for declared in (True, False):
        event = http_api_event(body, base64_body=True, token=idp.member_token(member_id))
        if not declared:
            del event["headers"]["content-length"]
        response = invoke(lambda_module, event)
        assert response["statusCode"] == 413
        assert [e["extensions"]["code"] for e in body_of(response)["errors"]] == ["BODY_TOO_LARGE"]


def test_a_get_event_with_a_mutation_in_the_query_string_is_405_and_writes_nothing(lambda_module, idp, member_id,
                                                                                  client):
    qs = "query=" + ENROLL.replace(" ", "+").replace("\n", "")
    response = invoke(lambda_module, http_api_event(method="GET", raw_query_string=qs,
                                                    token=idp.member_token(member_id)))
    assert response["statusCode"] == 405
    assert response["headers"]["allow"] == "POST"
    assert client.as_(idp.member_token(member_id)).ok(ME) == {"me": None}


def test_the_lambda_runs_in_production_mode(lambda_module, idp, member_id):
    response = invoke(lambda_module, http_api_event(graphql_body("{ __schema { types { name } } }"),
                                                    token=idp.member_token(member_id)))
    assert response["statusCode"] == 200  # a request error, answered as application/json
    assert "data" not in body_of(response)
    assert any("introspection" in e["message"].lower() for e in body_of(response)["errors"])


# -- events API Gateway never sends ----------------------------------------------------------------
def without(path: str) -> Any:
    def edit(event: dict[str, Any]) -> dict[str, Any]:
        *parents, last = path.split(".")
        node = event
        for key in parents:
            node = node[key]
        del node[last]
        return event
    return edit


def setting(path: str, value: Any) -> Any:
    def edit(event: dict[str, Any]) -> dict[str, Any]:
        *parents, last = path.split(".")
        node = event
        for key in parents:
            node = node[key]
        node[last] = value
        return event
    return edit


MALFORMED_EVENTS = {
    "no requestContext.http": without("requestContext.http"),
    "no requestContext": without("requestContext"),
    "headers null": setting("headers", None),
    "a header value not a string": setting("headers.content-length", 22),
    "body not a string": setting("body", {"query": ME}),
    "bad base64": lambda e: setting("body", "!!not base64!!")(setting("isBase64Encoded", True)(e)),
    "isBase64Encoded not a bool": setting("isBase64Encoded", "yes"),
    "no rawPath": without("rawPath"),
    "payload format 1.0": setting("version", "1.0"),
    "no version": without("version"),
    "method not a string": setting("requestContext.http.method", None),
    "stage not a string": setting("requestContext.stage", ["prod"]),
    "requestId not a string": setting("requestContext.requestId", 7),
    "rawQueryString null": setting("rawQueryString", None),
    "port not a number": setting("headers.x-forwarded-port", "https"),
    "a lone surrogate in the body": setting("body", '{"query": "\ud800"}'),
}


@pytest.mark.parametrize("edit", MALFORMED_EVENTS.values(), ids=MALFORMED_EVENTS.keys())
def test_an_event_api_gateway_never_sends_is_answered_400_not_an_invocation_error(lambda_module, edit):
    gateway_id = f"Gw{uuid.uuid4().hex[:10]}="
    event = edit(http_api_event(graphql_body(ME), request_id=gateway_id))
    lambda_id = str(uuid.uuid4())
    response = lambda_module.handler(event, lambda_context(lambda_id))
    assert response["statusCode"] == 400, response
    assert response["headers"]["content-type"] == "application/json"
    # API Gateway's request id when the event carries a usable one, else Lambda's
    usable = isinstance(event.get("requestContext"), dict) and event["requestContext"].get("requestId") == gateway_id
    assert response["headers"]["x-correlation-id"] == (gateway_id if usable else lambda_id)
    body = json.loads(response["body"])
    assert "data" not in body
    assert [e["extensions"]["code"] for e in body["errors"]] == ["BAD_REQUEST"]


@pytest.mark.parametrize("event", [None, [], "GET /graphql", 42], ids=["null", "list", "string", "number"])
def test_an_event_that_is_not_an_object_is_answered_400(lambda_module, event):
    lambda_id = str(uuid.uuid4())
    response = lambda_module.handler(event, lambda_context(lambda_id))
    assert response["statusCode"] == 400
    assert response["headers"]["x-correlation-id"] == lambda_id
    assert [e["extensions"]["code"] for e in json.loads(response["body"])["errors"]] == ["BAD_REQUEST"]


def test_the_event_check_lets_every_shape_api_gateway_sends_through(lambda_module, idp, member_id):
    # the control for the test above: optional parts absent, as API Gateway omits them
    event = http_api_event(graphql_body(ME), token=idp.member_token(member_id))
    for optional in ("rawQueryString", "isBase64Encoded"):
        del event[optional]
    event["cookies"] = ["a=1", "b=2"]
    event["headers"]["host"] = "api.example.com:443"
    assert (invoke(lambda_module, event)["statusCode"], body_of(invoke(lambda_module, event))) == \
        (200, {"data": {"me": None}})
    health = http_api_event(method="GET", path="/health")
    assert "body" not in health
    assert invoke(lambda_module, health)["statusCode"] == 200


def test_a_5000_deep_json_body_is_a_400_through_lambda(lambda_module):
    deep = ("[" * 5000 + "]" * 5000).encode()
    for base64_body in (False, True):
        response = invoke(lambda_module, http_api_event(deep, base64_body=base64_body))
        assert response["statusCode"] == 400, response
        assert [e["extensions"]["code"] for e in body_of(response)["errors"]] == ["BAD_REQUEST"]


def test_an_exception_escaping_mangum_is_logged_with_the_request_id_and_masked_as_500(lambda_module, monkeypatch,
                                                                                      caplog):
    def broken(event: Any, context: Any) -> dict:
        raise RuntimeError("secret-internal-detail")

    monkeypatch.setattr(lambda_module, "_mangum", broken)
    request_id = f"Ij{uuid.uuid4().hex[:10]}="
    with caplog.at_level(logging.INFO, logger="kizuna.lambda"):
        response = invoke(lambda_module, http_api_event(graphql_body(ME), request_id=request_id))
    assert response["statusCode"] == 500
    assert response["headers"]["x-correlation-id"] == request_id
    body = json.loads(response["body"])
    assert [e["extensions"]["code"] for e in body["errors"]] == ["INTERNAL"]
    assert "secret-internal-detail" not in response["body"]
    logged = [r for r in caplog.records if r.name == "kizuna.lambda"]
    assert [(r.levelno, r.correlation_id) for r in logged] == [(logging.ERROR, request_id)]
    assert "secret-internal-detail" in str(logged[0].exc_info[1])
