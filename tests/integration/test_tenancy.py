"""Tenants never see each other: the same member id in two programs is two members, down to the table keys."""
from __future__ import annotations

import uuid
from dataclasses import dataclass

import pytest

from infra import keys
from tests.conftest import enroll
from tests.support import GraphQLClient

ME = "{ me { memberId name email } }"
MEMBER = "query M($id: ID!) { member(id: $id) { memberId name email } }"
MEMBERS = ("query L($after: String) { members(first: 100, after: $after) "
           "{ edges { node { memberId name email } } pageInfo { hasNextPage endCursor } } }")


@dataclass
class Enrolled:
    tenant: str
    client: GraphQLClient  # the member
    staff: GraphQLClient  # an admin of the same tenant
    name: str
    email: str


@pytest.fixture
def shared_id() -> str:
    return f"m-{uuid.uuid4().hex[:10]}"


@pytest.fixture
def in_a(client, idp, tenants, shared_id) -> Enrolled:
    return enrolled_in(client, idp, tenants["a"], shared_id, "Aiko of A")


@pytest.fixture
def in_b(client, other_idp, tenants, shared_id) -> Enrolled:
    return enrolled_in(client, other_idp, tenants["b"], shared_id, "Bo of B")


def enrolled_in(client: GraphQLClient, issuer, tenant: str, member_id: str, name: str) -> Enrolled:
    email = f"{name.split()[0].lower()}-{uuid.uuid4().hex[:8]}@example.com"
    member = client.as_(issuer.member_token(member_id, email=email))  # vouched for: the email is bound
    created = enroll(member, name=name, email=email)
    assert created["memberId"] == member_id
    return Enrolled(tenant, member, client.as_(issuer.staff_token("staff-admin", "kizuna-admins")), name, email)


def all_members(staff: GraphQLClient) -> list[dict]:
    seen, after = [], None
    for _ in range(10_000):
        page = staff.ok(MEMBERS, {"after": after})["members"]
        seen += [e["node"] for e in page["edges"]]
        if not page["pageInfo"]["hasNextPage"]:
            return seen
        after = page["pageInfo"]["endCursor"]
    raise AssertionError("members never ran out of pages")


def test_the_same_member_id_in_two_tenants_sees_only_its_own_record(in_a, in_b, shared_id):
    assert in_a.client.ok(ME) == {"me": {"memberId": shared_id, "name": in_a.name, "email": in_a.email}}
    assert in_b.client.ok(ME) == {"me": {"memberId": shared_id, "name": in_b.name, "email": in_b.email}}


def test_a_member_id_enrolled_only_in_one_tenant_is_not_enrolled_in_the_other(client, idp, other_idp):
    member_id = f"m-{uuid.uuid4().hex[:10]}"
    enroll(client.as_(idp.member_token(member_id)))
    assert client.as_(other_idp.member_token(member_id)).ok(ME) == {"me": None}


def test_staff_listing_members_never_sees_another_tenants_members(in_a, in_b, shared_id):
    listed_by_a = all_members(in_a.staff)
    assert [m for m in listed_by_a if m["memberId"] == shared_id] == [
        {"memberId": shared_id, "name": in_a.name, "email": in_a.email}]
    assert in_b.email not in {m["email"] for m in listed_by_a}
    assert not any(m["name"].endswith("of B") for m in listed_by_a)  # no tenant b member, not just this one

    listed_by_b = all_members(in_b.staff)
    assert [m for m in listed_by_b if m["memberId"] == shared_id] == [
        {"memberId": shared_id, "name": in_b.name, "email": in_b.email}]
    assert not any(m["name"].endswith("of A") for m in listed_by_b)


def test_staff_asking_for_a_member_id_get_their_own_tenants_record(in_a, in_b, shared_id):
    assert in_a.staff.ok(MEMBER, {"id": shared_id}) == {
        "member": {"memberId": shared_id, "name": in_a.name, "email": in_a.email}}
    assert in_b.staff.ok(MEMBER, {"id": shared_id}) == {
        "member": {"memberId": shared_id, "name": in_b.name, "email": in_b.email}}


def test_an_email_bound_in_one_tenant_is_free_in_another(client, idp, other_idp):
    email = f"both-{uuid.uuid4().hex[:8]}@example.com"
    for issuer in (idp, other_idp):
        member = client.as_(issuer.member_token(f"m-{uuid.uuid4().hex[:10]}", email=email))
        enroll(member, email=email)
        assert member.ok("{ me { emailVerified } }") == {"me": {"emailVerified": True}}


def test_each_tenants_profile_lives_under_its_own_tenant_prefixed_partition_key(in_a, in_b, shared_id, services):
    items = {}
    for side in (in_a, in_b):
        pk = keys.member_pk(side.tenant, shared_id)
        assert pk.startswith(f"T#{side.tenant}#")
        found = services.dynamodb.get_item(TableName=services.settings.table_name, ConsistentRead=True,
                                           Key={"PK": {"S": pk}, "SK": {"S": keys.PROFILE}})
        assert "Item" in found, pk
        items[side.tenant] = found["Item"]

    for side in (in_a, in_b):
        item = items[side.tenant]
        assert item["PK"]["S"] == f"T#{side.tenant}#M#{shared_id}"
        assert item["memberId"]["S"] == shared_id
        assert (item["name"]["S"], item["email"]["S"]) == (side.name, side.email)
        assert item["GSI1PK"]["S"].startswith(f"T#{side.tenant}#")  # the staff listing index, too

    # The same member id without a tenant prefix names nothing.
    bare = services.dynamodb.get_item(TableName=services.settings.table_name, ConsistentRead=True,
                                      Key={"PK": {"S": f"M#{shared_id}"}, "SK": {"S": keys.PROFILE}})
    assert "Item" not in bare
    # Each tenant's email claim is its own item too.
    for side in (in_a, in_b):
        claim = services.dynamodb.get_item(TableName=services.settings.table_name, ConsistentRead=True,
                                           Key={"PK": {"S": keys.email_pk(side.tenant, side.email)},
                                                "SK": {"S": "MEMBER"}})
        assert claim["Item"]["PK"]["S"].startswith(f"T#{side.tenant}#")
        assert claim["Item"]["memberId"]["S"] == shared_id
