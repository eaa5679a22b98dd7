"""Partner brands over GraphQL: staff register and suspend them, members grant and revoke consent, and a
partner's one call answers only consenting members, only with what they shared, in a way that tells
nothing else apart (the same answer and the same DynamoDB calls), every look-up recorded and shown to the
member; partners can call nothing else; the rate limit holds across two API instances sharing the table."""
from __future__ import annotations

import uuid
from collections import Counter
from typing import Iterator

import pytest

from bench.common import DynamoCallCounter
from domain.partners.member_ref import email_hash
from infra import keys
from infra.items import TableItem, read_partition
from tests.api.test_storefront import Shop, own_tenant
from tests.conftest import enroll, make_settings
from tests.support import GraphQLClient, all_at_once, check_page_ends_exactly

REGISTER = """mutation R($input: PartnerInput!) { partnerRegister(input: $input) {
  partner { id partnerId name clientId scopes rateLimitPerMinute status } userErrors { field code message } } }"""
SUSPEND = "mutation S($id: ID!) { partnerSuspend(id: $id) { partner { status } userErrors { field code } } }"
REINSTATE = "mutation S($id: ID!) { partnerReinstate(id: $id) { partner { status } userErrors { field code } } }"
GRANT = """mutation G($p: ID!, $f: [String!]!) { partnerConsentGrant(partnerId: $p, purpose: TIER_MATCH, fields: $f) {
  consent { id partnerId partnerName purpose fields linkedId active revokedAt } userErrors { field code } } }"""
REVOKE = """mutation V($p: ID!) { partnerConsentRevoke(partnerId: $p) { consent { active revokedAt linkedId }
  userErrors { field code } } }"""
STATUS = """query S($ref: PartnerMemberRefInput!, $f: [String!]) { partnerMemberStatus(memberRef: $ref, fields: $f) {
  tier status memberSince } }"""
MINE = """{ me { partnerConsents { partnerId fields active linkedId } partnerLookups(first: 20) {
  nodes { id partnerId partnerName fields answered at } } } }"""


@pytest.fixture
def shop(dynamodb_endpoint, table_name, services, idp) -> Iterator[Shop]:
    del services
    yield from own_tenant(dynamodb_endpoint, table_name, idp)


def register(shop: Shop, partner_id: str = "acme", client_id: str = "acme", **extra) -> dict:
    out = shop.admin.ok(REGISTER, {"input": {"id": partner_id, "name": partner_id.title(), "clientId": client_id,
                                             **extra}})["partnerRegister"]
    assert out["userErrors"] == [], out
    return out["partner"]


def member_with_email(shop: Shop) -> tuple[GraphQLClient, str, str]:
    member_id = f"m-{uuid.uuid4().hex[:10]}"
    email = f"{member_id}@Example.com"
    client = shop.anonymous.as_(shop.idp.member_token(member_id, email=email))
    enroll(client, email=email)
    return client, member_id, email


def ask(partner: GraphQLClient, ref: dict, fields: list[str] | None = None):
    return partner(STATUS, {"ref": ref, "f": fields})


def test_staff_register_a_partner_with_every_problem_reported_at_once_and_one_partner_per_client(shop: Shop) -> None:
    bad = shop.admin.ok(REGISTER, {"input": {"id": "Not_A_Slug", "name": "X", "clientId": "c1",
                                             "scopes": ["member-status", "orders"], "rateLimitPerMinute": 0}})
    assert {(e["field"], e["code"]) for e in bad["partnerRegister"]["userErrors"]} == {
        ("id", "INVALID"), ("scopes.1", "INVALID"), ("rateLimitPerMinute", "OUT_OF_RANGE")}
    made = register(shop)
    assert (made["partnerId"], made["scopes"], made["rateLimitPerMinute"], made["status"]) == (
        "acme", ["member-status"], 60, "ACTIVE")
    again = shop.admin.ok(REGISTER, {"input": {"id": "acme", "name": "A", "clientId": "acme"}})["partnerRegister"]
    assert {(e["field"], e["code"]) for e in again["userErrors"]} == {("id", "CONFLICT"), ("clientId", "CONFLICT")}
    assert [a.action for a in read_partition(keys.audit_pk(shop.tenant)) if isinstance(a, TableItem)] == [
        "partner.register"]
    listed = shop.admin.ok("{ partners(first: 5) { nodes { partnerId status } } }")["partners"]["nodes"]
    assert listed == [{"partnerId": "acme", "status": "ACTIVE"}]
    member = shop.member()
    for caller in (member, shop.service, shop.partner):
        assert caller(REGISTER, {"input": {"id": "x", "name": "X", "clientId": "x"}}).errors


def test_a_member_grants_consent_sees_it_and_a_partner_gets_only_the_fields_shared(shop: Shop) -> None:
    register(shop)
    member, member_id, email = member_with_email(shop)
    wrong = member.ok(GRANT, {"p": "acme", "f": ["tier", "email", "memberSince", "balance"]})["partnerConsentGrant"]
    assert [(e["field"], e["code"]) for e in wrong["userErrors"]] == [("fields.1", "INVALID"), ("fields.3", "INVALID")]
    nobody = member.ok(GRANT, {"p": "nobody", "f": ["tier"]})["partnerConsentGrant"]
    assert [(e["field"], e["code"]) for e in nobody["userErrors"]] == [("partnerId", "NOT_FOUND")]
    granted = member.ok(GRANT, {"p": "acme", "f": ["memberSince", "tier"]})["partnerConsentGrant"]
    consent = granted["consent"]
    assert (consent["partnerName"], consent["purpose"], consent["fields"], consent["active"]) == (
        "Acme", "TIER_MATCH", ["tier", "memberSince"], True)
    linked = consent["linkedId"]
    assert linked.startswith("pl_")

    by_link = ask(shop.partner, {"linkedId": linked}, ["tier", "memberSince"])
    assert not by_link.errors and by_link.data["partnerMemberStatus"] == {
        "tier": None, "status": None, "memberSince": shop.now.date().isoformat()}
    by_email = ask(shop.partner, {"emailSha256": email_hash(email).upper()}, ["memberSince"])
    assert by_email.data["partnerMemberStatus"]["memberSince"] == shop.now.date().isoformat()
    mine = member.ok(MINE)["me"]
    assert mine["partnerConsents"] == [{"partnerId": "acme", "fields": ["tier", "memberSince"], "active": True,
                                        "linkedId": linked}]
    # The API's clock stands still in this test, so both look-ups have the same time: compared as a set.
    assert sorted((n["partnerName"], n["fields"], n["answered"]) for n in mine["partnerLookups"]["nodes"]) == [
        ("Acme", ["memberSince"], True), ("Acme", ["tier", "memberSince"], True)]
    actions = [a.action for a in read_partition(keys.audit_pk(shop.tenant)) if isinstance(a, TableItem)]
    assert actions.count("partner_consent.grant") == 1


def test_a_partner_sees_a_lapsed_member_as_lapsed(shop: Shop) -> None:
    from datetime import timedelta

    from infra.lifecycle.jobs import lapse_members
    from infra.lifecycle.standing import Standings
    from infra.points.jobs import PointsJobs
    from infra.points.program_store import ProgramStore
    register(shop)
    member, member_id, _ = member_with_email(shop)
    linked = member.ok(GRANT, {"p": "acme", "f": ["status"]})["partnerConsentGrant"]["consent"]["linkedId"]
    assert ask(shop.partner, {"linkedId": linked}, ["status"]).data["partnerMemberStatus"]["status"] == "ACTIVE"
    assert shop.admin.ok("mutation { lifecycleSettingsSet(input: {lapseAfterDays: 30}) { userErrors { code } } }")[
        "lifecycleSettingsSet"]["userErrors"] == []
    Standings(shop.tenant).active(member_id, shop.now + timedelta(seconds=1), 30, shop.now)
    report = lapse_members(PointsJobs(shop.tenant, ProgramStore(shop.tenant, shop.api.services.programs)),
                           shop.now + timedelta(days=31))
    assert report.processed == 1
    assert ask(shop.partner, {"linkedId": linked}, ["status"]).data["partnerMemberStatus"]["status"] == "LAPSED"


def test_every_refusal_is_the_same_answer_with_the_same_calls_and_is_recorded(shop: Shop) -> None:
    register(shop)
    register(shop, "other", "other-client")
    member, member_id, email = member_with_email(shop)
    linked = member.ok(GRANT, {"p": "acme", "f": ["tier"]})["partnerConsentGrant"]["consent"]["linkedId"]
    stranger, _, stranger_email = member_with_email(shop)  # a member who never consented
    other = shop.anonymous.as_(shop.idp.partner_token("other-client"))
    counter = DynamoCallCounter(TableItem._get_connection().connection.client)

    def refused(caller: GraphQLClient, ref: dict, fields: list[str] | None = None) -> tuple:
        counter.reset()
        result = ask(caller, ref, fields)
        return result.body, tuple(sorted(Counter(counter.calls).items()))

    cases = {
        "no consent": refused(shop.partner, {"emailSha256": email_hash(stranger_email)}),
        "non-member": refused(shop.partner, {"emailSha256": email_hash("nobody@example.com")}),
        "another partner's linked id": refused(other, {"linkedId": linked}, ["tier"]),
        "a field not shared": refused(shop.partner, {"linkedId": linked}, ["tier", "status"]),
        "a PII field": refused(shop.partner, {"linkedId": linked}, ["email"]),
        "a malformed reference": refused(shop.partner, {"linkedId": "pl_short"}),
        "both references": refused(shop.partner, {"linkedId": linked, "emailSha256": email_hash(email)}),
    }
    assert shop.admin.ok(SUSPEND, {"id": "acme"})["partnerSuspend"]["partner"]["status"] == "SUSPENDED"
    cases["suspended"] = refused(shop.partner, {"linkedId": linked}, ["tier"])
    assert shop.admin.ok(REINSTATE, {"id": "acme"})["partnerReinstate"]["partner"]["status"] == "ACTIVE"
    assert ask(shop.partner, {"linkedId": linked}, ["tier"]).data["partnerMemberStatus"] == {
        "tier": None, "status": None, "memberSince": None}
    assert member.ok(REVOKE, {"p": "acme"})["partnerConsentRevoke"]["consent"]["active"] is False
    cases["revoked"] = refused(shop.partner, {"linkedId": linked}, ["tier"])
    cases["revoked, by email"] = refused(shop.partner, {"emailSha256": email_hash(email)}, ["tier"])
    counter.close()
    bodies = {body == {"data": {"partnerMemberStatus": None}} for body, _ in cases.values()}
    assert bodies == {True}, cases
    assert len({calls for _, calls in cases.values()}) == 1, {k: c for k, (_, c) in cases.items()}
    recorded = member.ok(MINE)["me"]["partnerLookups"]["nodes"]
    # The member sees the look-ups that named them: a field not shared, a PII field, while suspended (all
    # refused) and the one after reinstating (answered); the clock stands still here, so not their order.
    # Those that named nobody (no consent, a non-member, malformed, both references, and the dead references
    # after the revocation) are recorded on the partner's side.
    assert sorted(n["answered"] for n in recorded if n["partnerId"] == "acme") == [False, False, False, True]
    partner_side = [i for i in read_partition(keys.partner_pk(shop.tenant, "acme")) if type(i).__name__ == "LookupRecord"]
    assert len(partner_side) == 6



def test_a_partner_can_call_nothing_but_its_one_query(shop: Shop) -> None:
    register(shop)
    for query in ("{ programSummary { id } }", "{ communityFeed(first: 1) { nodes { id } } }",
                  "{ me { memberId } }", '{ node(id: "x") { id } }', "{ partners(first: 1) { nodes { id } } }",
                  'mutation { partnerConsentRevoke(partnerId: "acme") { userErrors { code } } }'):
        result = shop.partner(query)
        assert result.errors and {e["extensions"]["code"] for e in result.errors} == {"FORBIDDEN"}, (query, result.body)
    both = shop.partner('{ programSummary { id } partnerMemberStatus(memberRef: {linkedId: "pl_x"}) { tier } }')
    assert both.data["partnerMemberStatus"] is None and [e["path"] for e in both.errors] == [["programSummary"]]


def test_a_hundred_rapid_lookups_hit_the_limit_across_two_instances_sharing_the_table(
        shop: Shop, dynamodb_endpoint, table_name, idp) -> None:
    from api.http import Api
    from api.runtime import build_services
    register(shop, rateLimitPerMinute=60)
    second_api = Api(build_services(make_settings(dynamodb_endpoint, table_name, (idp.issuer_settings(shop.tenant),),
                                                  default_tenant=shop.tenant)), clock=lambda: shop.now)
    partners = [shop.partner, GraphQLClient(second_api, idp.partner_token("acme"))]
    results = all_at_once([lambda i=i: ask(partners[i % 2], {"linkedId": "pl_" + "a" * 26}) for i in range(100)])
    codes = Counter("ok" if not r.errors else r.errors[0]["extensions"]["code"] for r in results)
    assert codes == {"ok": 60, "RATE_LIMITED": 40}, codes
    limited = next(r for r in results if r.errors)
    assert 1 <= limited.errors[0]["extensions"]["retryAfter"] <= 60


PAGE = "edges { cursor } pageInfo { hasNextPage hasPreviousPage startCursor endCursor }"


def _pages(client: GraphQLClient, query: str, path: tuple[str, ...]) -> None:
    def page(f: int, a: str | None) -> dict:
        data = client.ok(query, {"f": f, "a": a})
        for key in path:
            data = data[key]
        return data
    check_page_ends_exactly(page)


def test_the_partners_list_pages_and_a_page_ending_at_the_end_has_no_next(shop: Shop) -> None:
    for name in ("acme", "bolt", "cove"):
        register(shop, name, f"{name}-client")
    _pages(shop.admin, "query($f: Int, $a: String) { partners(first: $f, after: $a) { %s } }" % PAGE, ("partners",))


def test_a_members_lookups_page_newest_first_and_a_page_ending_at_the_end_has_no_next(shop: Shop) -> None:
    from datetime import timedelta
    register(shop)
    member, _, _ = member_with_email(shop)
    linked = member.ok(GRANT, {"p": "acme", "f": ["tier"]})["partnerConsentGrant"]["consent"]["linkedId"]
    for i in range(3):
        shop.now += timedelta(seconds=1)
        assert ask(shop.partner, {"linkedId": linked}, ["tier"]).data["partnerMemberStatus"] is not None
    times = [n["at"] for n in member.ok(MINE)["me"]["partnerLookups"]["nodes"]]
    assert times == sorted(times, reverse=True) and len(times) == 3
    _pages(member, "query($f: Int, $a: String) { me { partnerLookups(first: $f, after: $a) { %s } } }" % PAGE,
           ("me", "partnerLookups"))
