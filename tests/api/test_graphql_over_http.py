"""GraphQL over HTTP by the spec, as the graphql-http package's own server audits judge it.

The audits (npm graphql-http, run by tests/http_audit/audit.mjs under node) send real requests to the
ASGI app under uvicorn, in production mode and in dev mode (which serves introspection, suggestions
and GraphiQL, and so could answer differently). Every MUST and SHOULD audit passes. Of the MAY
audits, only those for GET fail: GraphQL is POST only here (a mutation must never run from a link,
and one method keeps the limits in one place), which the spec allows.
"""
from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path
from typing import Any, Iterator

import pytest
from graphql import parse, validate

from api.http import Api
from api.runtime import build_services
from resolvers.introspection import NoSchemaShapeIntrospection
from tests.conftest import make_settings
from tests.support import GraphQLClient, live_server

ROOT = Path(__file__).resolve().parents[2]
AUDIT = ROOT / "tests" / "http_audit" / "audit.mjs"
# The MAY audits of GET requests: the only ones this server fails, by choice (POST only).
GET_AUDITS = {
    "5A70",  # MAY accept application/x-www-form-urlencoded formatted GET requests
    "D6D5",  # MAY allow URL-encoded JSON string {variables} parameter in GETs (graphql-response+json)
    "6A70",  # MAY allow URL-encoded JSON string {variables} parameter in GETs (json)
}
MUTATION_BY_GET_REFUSED = "9C48"  # MAY NOT allow executing mutations on GET requests


def run_audit(url: str) -> dict[str, Any]:
    node = shutil.which("node")
    assert node, "node is needed for the GraphQL-over-HTTP audit (Node 20, as in CI)"
    assert (ROOT / "node_modules" / "graphql-http").is_dir(), "run `make deps` (npm ci) first"
    done = subprocess.run([node, str(AUDIT), url], cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stdout + done.stderr
    lines = done.stdout.strip().splitlines()
    summary = json.loads(lines[-1])
    summary["lines"] = lines[:-1]
    summary["passed_ids"] = {line.split()[1] for line in lines[:-1] if line.startswith("ok ")}
    return summary


@pytest.fixture(scope="module", params=["production", "dev"])
def audit(request, dynamodb_endpoint, table_name, services, idp, tenants) -> Iterator[tuple[str, dict[str, Any]]]:
    mode = request.param
    if mode == "production":
        api = Api(services)
    else:
        settings = make_settings(dynamodb_endpoint, table_name, (idp.issuer_settings(tenants["a"]),), env="dev",
                                 default_tenant=tenants["a"])
        api = Api(build_services(settings))
    assert api.settings.dev == (mode == "dev")
    with live_server(api) as base:
        yield mode, run_audit(f"{base}/graphql")


def counts_line(mode: str, summary: dict[str, Any]) -> str:
    counts = summary["counts"]
    return f"graphql-http audit ({mode}): " + ", ".join(
        f"{level} {counts[level]['passed']} of {counts[level]['total']}" for level in ("MUST", "SHOULD", "MAY"))


def test_every_must_and_should_audit_of_graphql_http_passes(audit, capsys):
    mode, summary = audit
    with capsys.disabled():  # the counts belong in the output of `make test`
        print(f"\n{counts_line(mode, summary)}")
    failed = [f for f in summary["failed"] if f["level"] in ("MUST", "SHOULD")]
    assert failed == [], "\n".join(f"{f['id']} {f['name']}: {f['reason']}" for f in failed)
    counts = summary["counts"]
    # the audit really ran: graphql-http 1.23.1 has 13 MUST and 23 SHOULD audits
    assert (counts["MUST"]["total"], counts["SHOULD"]["total"]) == (13, 23), counts


def test_the_only_may_audits_that_fail_are_those_for_get_requests(audit):
    _, summary = audit
    failed = {f["id"] for f in summary["failed"] if f["level"] == "MAY"}
    assert failed == GET_AUDITS, "\n".join(summary["lines"])


def test_the_audit_finds_that_a_mutation_sent_by_get_never_runs(audit):
    _, summary = audit
    assert MUTATION_BY_GET_REFUSED in summary["passed_ids"], "\n".join(summary["lines"])


# -- what production introspection answers ------------------------------------------------------------
# The audit checks variables with `query Type($name: String!) { __type(name: $name) { name } }`, so a
# production server answers a type's name (validation tells whether a type exists anyway) and nothing
# of any type's shape.
@pytest.mark.parametrize("query", [
    '{ __type(name: "Member") { name } }',
    '{ __type(name: "Member") { name __typename } __typename }',
    "query Type($name: String!) { __type(name: $name) { name } }",
])
def test_production_introspection_answers_the_name_of_a_type(services, query):
    assert validate(services.schema._schema, parse(query), [NoSchemaShapeIntrospection]) == []


@pytest.mark.parametrize("query", [
    "{ __schema { queryType { name } } }",
    '{ __type(name: "Member") { fields { name } } }',
    '{ __type(name: "Member") { kind } }',
    '{ __type(name: "Member") { description } }',
    '{ __type(name: "ErrorCode") { enumValues { name } } }',
    '{ __type(name: "MemberEnrollInput") { inputFields { name } } }',
    '{ __type(name: "Member") { ...Shape } } fragment Shape on __Type { fields { name } }',
    '{ __type(name: "Member") { ... on __Type { interfaces { name } } } }',
], ids=["schema", "fields", "kind", "description", "enum-values", "input-fields", "fragment", "inline-fragment"])
def test_production_introspection_refuses_the_shape_of_the_schema(services, query):
    errors = validate(services.schema._schema, parse(query), [NoSchemaShapeIntrospection])
    assert errors and all("introspection has been disabled" in e.message for e in errors), errors


def test_a_production_server_answers_the_name_of_a_type_and_refuses_its_fields(api):
    client = GraphQLClient(api)
    assert client.ok('{ __type(name: "Member") { name } }') == {"__type": {"name": "Member"}}
    refused = client('{ __type(name: "Member") { fields { name } } }')
    assert "data" not in refused.body and "referralCode" not in json.dumps(refused.body), refused.body
