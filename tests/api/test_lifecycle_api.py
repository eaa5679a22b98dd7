"""Lifecycle over GraphQL: admins set when members lapse (every problem at once, audited), staff list the
lapsed members as a connection for export, members cannot."""
from __future__ import annotations

from datetime import timedelta
from typing import Iterator

import pytest

from infra import keys
from infra.items import TableItem, read_partition
from infra.lifecycle.jobs import lapse_members
from infra.lifecycle.standing import Standings
from infra.points.jobs import PointsJobs
from infra.points.program_store import ProgramStore
from tests.api.test_storefront import Shop, own_tenant
from tests.support import check_page_ends_exactly

SET = """mutation S($input: LifecycleSettingsInput!) { lifecycleSettingsSet(input: $input) {
  settings { lapseAfterDays anniversaryPoints milestonePoints } userErrors { field code } } }"""
PAGE = "edges { cursor } pageInfo { hasNextPage hasPreviousPage startCursor endCursor }"


@pytest.fixture
def shop(dynamodb_endpoint, table_name, services, idp) -> Iterator[Shop]:
    del services
    yield from own_tenant(dynamodb_endpoint, table_name, idp)


def test_lifecycle_settings_report_every_problem_at_once_and_are_audited(shop: Shop) -> None:
    bad = shop.admin.ok(SET, {"input": {"lapseAfterDays": 3, "anniversaryPoints": -1}})["lifecycleSettingsSet"]
    assert {(e["field"], e["code"]) for e in bad["userErrors"]} == {("lapseAfterDays", "OUT_OF_RANGE"),
                                                                    ("anniversaryPoints", "OUT_OF_RANGE")}
    ok = shop.admin.ok(SET, {"input": {"lapseAfterDays": 90, "milestonePoints": 50}})["lifecycleSettingsSet"]
    assert ok == {"settings": {"lapseAfterDays": 90, "anniversaryPoints": 0, "milestonePoints": 50}, "userErrors": []}
    off = shop.admin.ok(SET, {"input": {"lapseAfterDays": None}})["lifecycleSettingsSet"]["settings"]
    assert off["lapseAfterDays"] is None and off["milestonePoints"] == 50
    actions = [a.action for a in read_partition(keys.audit_pk(shop.tenant)) if isinstance(a, TableItem)]
    assert actions.count("lifecycle.settings_set") == 2
    assert shop.member()(SET, {"input": {"lapseAfterDays": 30}}).errors


def test_staff_list_lapsed_members_longest_lapsed_first_and_a_page_ending_at_the_end_has_no_next(shop: Shop) -> None:
    assert shop.admin.ok(SET, {"input": {"lapseAfterDays": 30}})["lifecycleSettingsSet"]["userErrors"] == []
    ids = []
    for i in range(3):
        member = shop.member()
        member_id = member.ok("{ me { memberId } }")["me"]["memberId"]
        ids.append(member_id)
        Standings(shop.tenant).active(member_id, shop.now + timedelta(minutes=i), 30, shop.now)
    store = ProgramStore(shop.tenant, shop.api.services.programs)
    for i in range(3):  # one lapse per run, a minute apart: the list's order is the order they lapsed
        report = lapse_members(PointsJobs(shop.tenant, store), shop.now + timedelta(days=30, minutes=i, seconds=30))
        assert report.processed == 1
    listed = shop.admin.ok("{ lapsedMembers(first: 10) { nodes { memberId member { memberId name } } } }")
    assert [n["memberId"] for n in listed["lapsedMembers"]["nodes"]] == ids
    assert listed["lapsedMembers"]["nodes"][0]["member"]["memberId"] == ids[0]

    check_page_ends_exactly(lambda f, a: shop.admin.ok(
        "query($f: Int, $a: String) { lapsedMembers(first: $f, after: $a) { %s } }" % PAGE,
        {"f": f, "a": a})["lapsedMembers"])
    refused = shop.member()("{ lapsedMembers(first: 5) { nodes { memberId } } }")
    assert refused.errors and refused.errors[0]["extensions"]["code"] == "FORBIDDEN"
