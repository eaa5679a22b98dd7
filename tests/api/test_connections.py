"""Every connection through the one helper: exact pageInfo, the 100 cap, and cursors bound to their list."""
from __future__ import annotations

import base64
import json
import uuid
from datetime import timedelta

import pytest

from tests.api.points_support import ADJUST
from tests.conftest import enroll

MEMBER_HISTORY = """query H($id: ID!, $first: Int, $after: String, $types: [EntryType!]) { member(id: $id) {
  pointsHistory(first: $first, after: $after, types: $types) { edges { cursor node { id points } }
  pageInfo { hasNextPage hasPreviousPage startCursor endCursor } } } }"""
FORGED = base64.urlsafe_b64encode(json.dumps({"PK": {"S": "T#alpha#M#me"}, "SK": {"S": "TX#0"}}).encode()).decode()


def give(admin, member_id, n, times):
    for _ in range(times):
        out = admin.ok(ADJUST, {"memberId": member_id, "points": n, "reason": "test"})["pointsAdjust"]
        assert out["userErrors"] == [], out


def history(client, member_id, **variables):
    r = client(MEMBER_HISTORY, {"id": member_id, **variables})
    return r, (r.data or {}).get("member") and r.data["member"]["pointsHistory"]


def test_paging_walks_every_entry_once_and_has_next_page_is_false_on_the_last_full_page(admin, enrolled, member_id):
    give(admin, member_id, 1, 6)
    seen, after, pages = [], None, 0
    while True:
        _, page = history(admin, member_id, first=3, after=after)
        seen += [e["node"]["id"] for e in page["edges"]]
        pages += 1
        assert page["pageInfo"]["hasPreviousPage"] is False
        assert page["pageInfo"]["startCursor"] == page["edges"][0]["cursor"]
        if not page["pageInfo"]["hasNextPage"]:
            break
        after = page["pageInfo"]["endCursor"]
    assert pages == 2 and len(seen) == len(set(seen)) == 6  # no empty third page behind a true hasNextPage


def test_first_is_capped_at_100_with_more_than_100_items(admin, enrolled, member_id):
    give(admin, member_id, 1, 105)
    _, page = history(admin, member_id, first=1000)
    assert len(page["edges"]) == 100 and page["pageInfo"]["hasNextPage"] is True
    _, rest = history(admin, member_id, first=100, after=page["pageInfo"]["endCursor"])
    assert len(rest["edges"]) == 5 and rest["pageInfo"]["hasNextPage"] is False


CONNECTIONS = [
    "{ me { pointsHistory(first: 2, after: $a) { edges { cursor } } } }",
    "{ me { redemptions(first: 2, after: $a) { edges { cursor } } } }",
]
STAFF_CONNECTIONS = [
    "{ members(first: 2, after: $a) { edges { cursor } } }",
    "{ auditTrail(first: 2, after: $a) { edges { cursor } } }",
]


@pytest.mark.parametrize("query", CONNECTIONS)
def test_a_forged_or_tampered_cursor_on_a_member_connection_is_bad_user_input(enrolled, query):
    for cursor in (FORGED, "not-a-cursor", "A" * 2000):
        r = enrolled("query($a: String) " + query, {"a": cursor})
        assert r.status == 200 and r.error_codes() == ["BAD_USER_INPUT"], r.body
        assert r.errors[0]["extensions"]["field"] == "after"


@pytest.mark.parametrize("query", STAFF_CONNECTIONS)
def test_a_forged_cursor_on_a_staff_connection_is_bad_user_input(admin, query):
    r = admin("query($a: String) " + query, {"a": FORGED})
    assert r.status == 200 and r.error_codes() == ["BAD_USER_INPUT"], r.body


def test_a_cursor_reveals_neither_tenant_nor_keys(admin, enrolled, member_id, tenant):
    give(admin, member_id, 1, 2)
    _, page = history(admin, member_id, first=1)
    cursor = page["edges"][0]["cursor"]
    raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
    assert tenant.encode() not in raw and b"PK" not in raw and member_id.encode() not in raw


def test_a_cursor_opens_only_for_the_list_and_the_caller_it_came_from(admin, client, idp, enrolled, member_id):
    other_id = f"m-{uuid.uuid4().hex[:10]}"
    other = client.as_(idp.member_token(other_id))
    enroll(other)
    give(admin, member_id, 1, 3)
    give(admin, other_id, 1, 3)
    _, page = history(admin, member_id, first=1)
    cursor = page["pageInfo"]["endCursor"]
    assert history(admin, member_id, first=1, after=cursor)[0].errors == []
    # another member's list, another filter, another caller: each refuses it
    assert history(admin, other_id, first=1, after=cursor)[0].error_codes() == ["BAD_USER_INPUT"]
    assert history(admin, member_id, first=1, after=cursor, types=["ADJUSTMENT"])[0].error_codes() == [
        "BAD_USER_INPUT"]
    other_staff = client.as_(idp.staff_token("staff-2", "kizuna-admins"))
    assert history(other_staff, member_id, first=1, after=cursor)[0].error_codes() == ["BAD_USER_INPUT"]
    own = enrolled("query($a: String) { me { pointsHistory(first: 1, after: $a) { edges { cursor } } } }",
                   {"a": cursor})
    assert own.error_codes() == ["BAD_USER_INPUT"]


def test_a_cursor_expires_after_a_day(admin, enrolled, member_id, clock):
    give(admin, member_id, 1, 2)
    _, page = history(admin, member_id, first=1)
    cursor = page["pageInfo"]["endCursor"]
    clock.set(clock() + timedelta(hours=25))
    r, _ = history(admin, member_id, first=1, after=cursor)
    assert r.error_codes() == ["BAD_USER_INPUT"]
