"""Out-of-bound input through the API: a typed error naming the field, before any I/O, never INTERNAL."""
from __future__ import annotations

import pytest

from infra import keys
from infra.items import TableItem
from tests.api.points_support import ORDER, PROGRAM, order_input
from tests.conftest import ENROLL

LONG = "x" * 3000


@pytest.fixture
def service(client, idp):
    return client.as_(idp.service_token())


def _member_partition(tenant: str, member_id: str) -> list:
    return list(TableItem.query(keys.member_pk(tenant, member_id)))


def test_a_3000_character_order_id_member_id_or_email_is_a_user_error_and_writes_nothing(service, enrolled, member_id,
                                                                                          tenant):
    before = len(_member_partition(tenant, member_id))
    for bad, field, code in ((order_input(member_id, order_id=LONG), "orderId", "TOO_LONG"),
                             (order_input(LONG), "memberId", "TOO_LONG"),
                             (order_input(None, email=f"{LONG}@example.com"), "email", "TOO_LONG")):
        out = service.ok(ORDER, {"input": bad})["orderRecord"]
        assert out["outcome"] is None and (field, code) in [(e["field"], e["code"]) for e in out["userErrors"]], out
    assert len(_member_partition(tenant, member_id)) == before


def test_a_3000_character_coupon_code_is_refused_by_every_coupon_call(service, enrolled):
    looked_up = service("query($c: String!) { couponValidate(code: $c) { code } }", {"c": LONG})
    assert looked_up.status == 200 and looked_up.error_codes() == ["BAD_USER_INPUT"]
    assert looked_up.errors[0]["extensions"]["field"] == "code"
    consumed = service.ok("mutation($c: String!) { couponConsume(code: $c, orderId: \"1\") { userErrors { field code } } }",
                          {"c": LONG})["couponConsume"]
    assert consumed["userErrors"] == [{"field": "code", "code": "TOO_LONG"}]
    cancelled = enrolled.ok("mutation($c: String!) { redemptionCancel(code: $c) { userErrors { field code } } }",
                            {"c": LONG})["redemptionCancel"]
    assert cancelled["userErrors"] == [{"field": "code", "code": "TOO_LONG"}]


def test_a_3000_character_referral_code_and_email_at_enrollment_are_reported_together(member):
    out = member.ok(ENROLL, {"input": {"name": "A", "email": f"{LONG}@example.com", "referralCode": LONG}})
    errors = out["memberEnroll"]["userErrors"]
    assert {(e["field"], e["code"]) for e in errors} == {("email", "TOO_LONG"), ("referralCode", "TOO_LONG")}
    assert member.ok("{ me { id } }") == {"me": None}


def test_a_3000_character_member_id_or_reference_on_an_activity_is_a_user_error(service, member_id):
    out = service.ok("""mutation($m: ID!, $r: String!) { activityRecord(memberId: $m, action: "review", reference: $r)
                        { points userErrors { field code } } }""", {"m": LONG, "r": LONG})["activityRecord"]
    assert {(e["field"], e["code"]) for e in out["userErrors"]} == {("memberId", "TOO_LONG"), ("reference", "TOO_LONG")}


def test_a_staff_lookup_of_a_3000_character_member_id_is_bad_user_input(admin):
    r = admin("query($id: ID!) { member(id: $id) { id } }", {"id": LONG})
    assert r.error_codes() == ["BAD_USER_INPUT"] and r.errors[0]["extensions"]["field"] == "id"


@pytest.mark.parametrize("at", ["9999-12-31T00:00:00Z", "0001-01-01T00:00:00+14:00"])
def test_order_dates_outside_the_range_are_out_of_range_not_an_overflow(service, enrolled, member_id, at):
    bad = {**order_input(member_id), "orderedAt": at, "deliveredAt": at}
    out = service.ok(ORDER, {"input": bad})["orderRecord"]
    assert {(e["field"], e["code"]) for e in out["userErrors"]} == {("orderedAt", "OUT_OF_RANGE"),
                                                                     ("deliveredAt", "OUT_OF_RANGE")}


def test_a_bad_date_says_so_in_the_callers_terms(service, enrolled, member_id):
    out = service.ok(ORDER, {"input": {**order_input(member_id), "orderedAt": "yesterday"}})["orderRecord"]
    assert out["userErrors"] == [{"field": "orderedAt", "code": "INVALID",
                                  "message": "A timestamp is ISO 8601 with a zone, e.g. 2026-11-22T10:00:00Z."}]


def test_every_bad_amount_in_an_order_is_reported_at_once(service, enrolled, member_id):
    bad = order_input(member_id, subtotal="NaN", total="Infinity",
                      lines=[{"id": "1", "quantity": 1, "price": "1e999"}, {"id": "2", "quantity": 1, "price": "sNaN"}])
    out = service.ok(ORDER, {"input": bad})["orderRecord"]
    assert {e["field"] for e in out["userErrors"]} == {"subtotal", "total", "lines.0.price", "lines.1.price"}


@pytest.mark.parametrize("change,field", [
    ({"earnRates": [{"currency": "JPY", "unitAmount": "NaN"}]}, "earnRates.0.unitAmount"),
    ({"earnRates": [{"currency": "JPY", "unitAmount": "100", "pointsPerUnit": "Infinity"}]}, "earnRates.0.pointsPerUnit"),
    ({"actions": [{"action": "review", "points": 10, "maxReturnRate": "-5"}]}, "actions.0"),
    ({"exchangeBonusMaxReturnRate": "1.5"}, "exchangeBonusMaxReturnRate"),
])
def test_program_decimals_and_rates_outside_their_bounds_are_refused_and_orders_keep_working(
        admin, service, enrolled, member_id, change, field):
    out = admin.ok(PROGRAM, {"input": change})["programUpdate"]
    assert out["program"] is None and field in [e["field"] for e in out["userErrors"]], out
    credited = service.ok(ORDER, {"input": order_input(member_id)})["orderRecord"]
    assert credited["outcome"] == "CREDITED" and credited["userErrors"] == []



def test_an_order_with_five_bad_fields_reports_all_five(service, enrolled, member_id):
    bad = order_input(member_id, subtotal="-1", currency="XXX",
                      lines=[{"id": "1", "quantity": -2, "price": "10"}, {"id": "2", "quantity": 1, "price": "-5"}])
    bad |= {"email": "not-an-address"}
    out = service.ok(ORDER, {"input": bad})["orderRecord"]
    fields = {e["field"] for e in out["userErrors"]}
    assert {"subtotal", "currency", "email", "lines.0.quantity", "lines.1.price"} <= fields, out["userErrors"]
