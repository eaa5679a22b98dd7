"""Staff manage the brand's webhook endpoints over GraphQL: the SSRF guard and the event types judged at once
with every problem reported, the secret shown once and never again, rotation keeping the previous secret for
its overlap, deletion, admins only, and the list as a connection. Hosts resolve through a stub: no test asks
DNS about anything."""
from __future__ import annotations

from datetime import timedelta
from typing import Iterator

import pytest

from infra import keys
from domain.events_out import endpoints as rules
from infra.events_out import endpoints as ep
from infra.items import TableItem, read_partition
from tests.api.test_storefront import Shop, own_tenant
from tests.support import check_page_ends_exactly

CREATE = """mutation C($input: WebhookEndpointInput!) { webhookEndpointCreate(input: $input) {
  endpoint { id endpointId url eventTypes enabled description previousSecretValidUntil }
  secret userErrors { field code message } } }"""
ROTATE = """mutation R($id: ID!) { webhookEndpointRotateSecret(id: $id) {
  endpoint { endpointId previousSecretValidUntil } secret userErrors { field code message } } }"""
DELETE = """mutation D($id: ID!) { webhookEndpointDelete(id: $id) {
  endpoint { endpointId url } secret userErrors { field code message } } }"""
LIST = "{ webhookEndpoints(first: 5) { nodes { endpointId } } }"
DEAD_LETTERS = "{ webhookDeadLetters(first: 5) { nodes { id } } }"
REPLAY = "mutation($id: ID!) { webhookDeliveryReplay(id: $id) { delivery { status } userErrors { code } } }"
PAGE_OF = """query($f: Int, $a: String) { webhookEndpoints(first: $f, after: $a) {
  edges { cursor node { url } } pageInfo { hasNextPage endCursor } } }"""
PUBLIC = {"hooks.example.com": ["93.184.215.14"], "crm.example.org": ["2606:4700::6810:84e5"],
          "rebind.example.net": ["169.254.169.254"], "inside.example.net": ["10.1.2.3"]}


@pytest.fixture
def shop(dynamodb_endpoint, table_name, services, idp) -> Iterator[Shop]:
    del services
    for s in own_tenant(dynamodb_endpoint, table_name, idp):
        s.api.services.resolve_host = lambda host: PUBLIC.get(host) or []
        yield s


def create(shop: Shop, **input) -> dict:
    return shop.admin.ok(CREATE, {"input": input})["webhookEndpointCreate"]


def test_an_endpoint_is_created_with_its_secret_shown_once_and_never_stored_in_the_audit(shop: Shop) -> None:
    out = create(shop, url="https://Hooks.Example.com/in", eventTypes=["TierChanged", "PointsEarned"],
                 description="CRM")
    assert out["userErrors"] == []
    assert out["secret"].startswith("whsec_")
    node = out["endpoint"]
    assert node["url"] == "https://hooks.example.com/in"
    assert node["eventTypes"] == ["PointsEarned", "TierChanged"] and node["enabled"] is True
    assert node["previousSecretValidUntil"] is None
    again = shop.admin.ok("query($id: ID!) { node(id: $id) { ... on WebhookEndpoint { url } } }", {"id": node["id"]})
    assert again["node"]["url"] == "https://hooks.example.com/in"
    audit = read_partition(keys.audit_pk(shop.tenant))
    assert [a.action for a in audit] == ["webhook_endpoint.create"]
    assert out["secret"] not in repr(audit[0].detail)


def test_every_problem_with_an_endpoint_is_reported_at_once_and_nothing_is_written(shop: Shop) -> None:
    out = create(shop, url="http://hooks.example.com/in", eventTypes=["pointsEarned", "NoSuchType"])
    assert out["endpoint"] is None and out["secret"] is None
    assert {(e["field"], e["code"]) for e in out["userErrors"]} == {("url", "INVALID"), ("eventTypes", "INVALID")}
    # A name that is not even a type name (the internal dotted one) is refused by its bound, by position.
    dotted = create(shop, url="https://hooks.example.com/in", eventTypes=["PointsEarned", "points.earned"])
    assert [(e["field"], e["code"]) for e in dotted["userErrors"]] == [("eventTypes.1", "INVALID")]
    assert read_partition(ep.endpoints_pk(shop.tenant)) == []


@pytest.mark.parametrize("url", ["https://rebind.example.net/in", "https://inside.example.net/in",
                                 "https://127.0.0.1/in", "https://localhost/in", "https://nowhere.example.com/in",
                                 "https://169.254.169.254/latest/meta-data"])
def test_an_endpoint_that_is_or_resolves_to_a_non_public_address_is_refused_in_production(shop: Shop, url: str) -> None:
    out = create(shop, url=url)
    assert out["endpoint"] is None
    assert [(e["field"], e["code"]) for e in out["userErrors"]] == [("url", "INVALID")]


def test_a_rotation_returns_a_new_secret_and_keeps_the_previous_one_for_the_overlap(shop: Shop) -> None:
    first = create(shop, url="https://hooks.example.com/in")
    endpoint_id = first["endpoint"]["endpointId"]
    out = shop.admin.ok(ROTATE, {"id": first["endpoint"]["id"]})["webhookEndpointRotateSecret"]
    assert out["userErrors"] == [] and out["secret"].startswith("whsec_") and out["secret"] != first["secret"]
    assert out["endpoint"]["previousSecretValidUntil"] == (shop.now + rules.ROTATION_OVERLAP).isoformat()
    stored = ep.Endpoints(shop.tenant).get(endpoint_id)
    assert stored.active_secrets(shop.now) == [out["secret"], first["secret"]]
    assert stored.active_secrets(shop.now + rules.ROTATION_OVERLAP + timedelta(seconds=1)) == [out["secret"]]


def test_deleting_an_endpoint_answers_it_as_it_was_and_a_second_delete_is_not_found(shop: Shop) -> None:
    made = create(shop, url="https://crm.example.org/kizuna")["endpoint"]
    out = shop.admin.ok(DELETE, {"id": made["endpointId"]})["webhookEndpointDelete"]
    assert out["userErrors"] == [] and out["endpoint"]["url"] == "https://crm.example.org/kizuna"
    assert ep.Endpoints(shop.tenant).all() == []
    again = shop.admin.ok(DELETE, {"id": made["endpointId"]})["webhookEndpointDelete"]
    assert [(e["field"], e["code"]) for e in again["userErrors"]] == [("id", "NOT_FOUND")]
    rotate = shop.admin.ok(ROTATE, {"id": made["endpointId"]})["webhookEndpointRotateSecret"]
    assert [(e["field"], e["code"]) for e in rotate["userErrors"]] == [("id", "NOT_FOUND")]


def test_a_program_has_at_most_the_endpoint_limit(shop: Shop) -> None:
    for i in range(rules.MAX_ENDPOINTS):
        assert create(shop, url=f"https://hooks.example.com/in/{i}")["userErrors"] == []
    out = create(shop, url="https://hooks.example.com/one-too-many")
    assert [(e["field"], e["code"]) for e in out["userErrors"]] == [("url", "LIMIT_REACHED")]
    assert len(ep.Endpoints(shop.tenant).all()) == rules.MAX_ENDPOINTS


def test_the_endpoints_list_pages_in_order_of_creation_and_a_page_ending_at_the_end_has_no_next(shop: Shop) -> None:
    urls = [f"https://hooks.example.com/in/{i}" for i in range(3)]
    for url in urls:
        create(shop, url=url)

    def page(f: int, a: str | None) -> dict:
        return shop.admin.ok(PAGE_OF, {"f": f, "a": a})["webhookEndpoints"]
    assert [e["node"]["url"] for e in page(3, None)["edges"]] == urls  # oldest first
    check_page_ends_exactly(page)


def test_only_admins_see_or_change_endpoints(shop: Shop) -> None:
    made = create(shop, url="https://hooks.example.com/in")["endpoint"]
    member = shop.member()
    for client in (member, shop.anonymous, shop.service, shop.partner):
        for query, variables in ((CREATE, {"input": {"url": "https://hooks.example.com/x"}}), (ROTATE, {"id": made["id"]}),
                                 (DELETE, {"id": made["id"]}), (LIST, None), (DEAD_LETTERS, None),
                                 (REPLAY, {"id": "01JEVENT:01JENDPOINT"})):
            result = client(query, variables)
            assert result.body.get("data") is None or all(v is None for v in result.body["data"].values())
            assert result.body.get("errors"), (query, result.body)
        node = client("query($id: ID!) { node(id: $id) { id } }", {"id": made["id"]})
        assert node.body["data"]["node"] is None
    assert len(ep.Endpoints(shop.tenant).all()) == 1
    assert [a.action for a in read_partition(keys.audit_pk(shop.tenant)) if isinstance(a, TableItem)] == [
        "webhook_endpoint.create"]
