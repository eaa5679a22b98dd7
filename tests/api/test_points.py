"""Points through the API: earning from orders, holding, returns, redemption, expiry and staff tools."""
from __future__ import annotations

import uuid
from datetime import datetime, timedelta, timezone

import pytest

from infra import keys
from infra.items import TableItem
from tests.api.points_support import (ADJUST, HISTORY, ME_POINTS, ORDER, PROGRAM, REDEEM, RETURN, REWARD,
                                      assert_books_balance, jobs, order_input)
from tests.conftest import enroll


@pytest.fixture
def service(client, idp):
    return client.as_(idp.service_token())


@pytest.fixture
def fresh_program(services, tenant):
    """Tests that change the program get a tenant-wide default back afterwards."""
    yield
    from infra.points.program_store import ProgramStore
    from domain.points.program import DEFAULT_PROGRAM

    store = ProgramStore(tenant, services.programs)
    store.save_program(DEFAULT_PROGRAM, "test", datetime.now(timezone.utc), "reset")


def points(member):
    return member.ok(ME_POINTS)["me"]["points"]


def give(admin, member_id, n):
    out = admin.ok(ADJUST, {"memberId": member_id, "points": n, "reason": "test setup"})["pointsAdjust"]
    assert out["userErrors"] == [], out


def test_an_order_is_credited_once_as_pending_then_released(service, enrolled, member_id, services, tenant):
    order = order_input(member_id)
    first = service.ok(ORDER, {"input": order})["orderRecord"]
    assert first == {"outcome": "CREDITED", "points": 100, "memberId": member_id, "userErrors": []}
    again = service.ok(ORDER, {"input": order})["orderRecord"]
    assert again["outcome"] == "DUPLICATE" and again["points"] == 0
    assert points(enrolled) | {"expiringSoon": None} == {"available": 0, "pending": 100, "lifetime": 100, "debt": 0,
                                                         "expiringSoon": None}
    now = datetime.now(timezone.utc)
    assert jobs(services, tenant).release_due(now + timedelta(days=29)).processed == 0
    assert points(enrolled)["pending"] == 100
    jobs(services, tenant).release_due(now + timedelta(days=31))
    assert points(enrolled)["available"] == 100 and points(enrolled)["pending"] == 0
    history = enrolled.ok(HISTORY, {"first": 10})["me"]["pointsHistory"]["edges"]
    assert [(e["node"]["type"], e["node"]["points"], e["node"]["status"], e["node"]["orderId"]) for e in history] == [
        ("EARN", 100, "POSTED", order["orderId"])]
    assert_books_balance(tenant, member_id)


def test_delivery_starts_the_return_window(service, enrolled, member_id, services, tenant):
    order = order_input(member_id)
    service.ok(ORDER, {"input": order})
    delivered = datetime.now(timezone.utc) + timedelta(days=10)
    out = service.ok("mutation($id: ID!, $at: DateTime!) { orderDeliver(orderId: $id, deliveredAt: $at) "
                     "{ outcome userErrors { code } } }", {"id": order["orderId"], "at": delivered.isoformat()})
    assert out["orderDeliver"]["outcome"] == "DELIVERY_RECORDED"
    jobs(services, tenant).release_due(datetime.now(timezone.utc) + timedelta(days=35))
    assert points(enrolled)["pending"] == 100  # 30 days from delivery have not passed
    jobs(services, tenant).release_due(delivered + timedelta(days=30, seconds=1))
    assert points(enrolled)["available"] == 100


def test_bad_orders_get_typed_errors_and_write_nothing(service, enrolled, member_id, tenant):
    cases = [
        (order_input(member_id, currency="XXX"), "UNKNOWN_CURRENCY"),
        (order_input(member_id, subtotal="-100"), "OUT_OF_RANGE"),
        (order_input(member_id, subtotal="1e15", total="1e15"), "OUT_OF_RANGE"),
        (order_input(member_id, subtotal="ten"), "INVALID"),
        (order_input(member_id, lines=[{"id": "1", "quantity": 0, "price": "10"}]), "OUT_OF_RANGE"),
        (order_input(member_id, ordered_at=datetime(2026, 1, 1)), "INVALID"),
    ]
    for order, code in cases:
        out = service.ok(ORDER, {"input": order})["orderRecord"]
        assert out["outcome"] is None and code in [e["code"] for e in out["userErrors"]], (order, out)
        assert not list(TableItem.query(keys.order_pk(tenant, order["orderId"])))
    assert points(enrolled)["lifetime"] == 0


def test_only_the_order_system_records_orders(enrolled, member_id, admin):
    for caller in (enrolled, admin):
        r = caller(ORDER, {"input": order_input(member_id)})
        assert "FORBIDDEN" in r.error_codes()


def test_refund_reverses_the_refunded_line_in_proportion_pending_first(service, enrolled, member_id, tenant):
    order = order_input(member_id)  # lines: 6000 (60 pts) and 4000 (40 pts)
    service.ok(ORDER, {"input": order})
    out = service.ok(RETURN, {"input": {"orderId": order["orderId"], "returnId": "r1", "resolution": "REFUND",
                                        "lines": [{"lineItemId": "1", "amount": "3000"}]}})["orderReturnRecord"]
    assert out == {"pointsReversed": 30, "bonusPoints": 0, "duplicate": False, "userErrors": []}
    again = service.ok(RETURN, {"input": {"orderId": order["orderId"], "returnId": "r1", "resolution": "REFUND",
                                          "lines": [{"lineItemId": "1", "amount": "3000"}]}})["orderReturnRecord"]
    assert again["duplicate"] is True and again["pointsReversed"] == 0
    assert points(enrolled)["pending"] == 70
    assert_books_balance(tenant, member_id)


def test_reversing_spent_points_records_debt_that_later_earnings_repay(service, enrolled, member_id, admin, services,
                                                                        tenant):
    order = order_input(member_id)
    service.ok(ORDER, {"input": order})
    jobs(services, tenant).release_due(datetime.now(timezone.utc) + timedelta(days=31))
    give(admin, member_id, -80)  # spent elsewhere: 20 left
    service.ok(RETURN, {"input": {"orderId": order["orderId"], "returnId": "r-all", "resolution": "REFUND",
                                  "lines": [{"lineItemId": "1", "amount": "6000"}, {"lineItemId": "2", "amount": "4000"}]}})
    p = points(enrolled)
    assert (p["available"], p["debt"]) == (0, 80)
    debt_view = admin.ok("query($id: ID!) { member(id: $id) { points { debt } } }", {"id": member_id})
    assert debt_view["member"]["points"]["debt"] == 80
    give(admin, member_id, 100)
    p = points(enrolled)
    assert (p["available"], p["debt"]) == (20, 0)
    assert_books_balance(tenant, member_id)


def test_exchange_keeps_points_and_may_earn_a_bonus_warranty_changes_nothing(service, enrolled, member_id, admin,
                                                                             tenant, fresh_program):
    admin.ok(PROGRAM, {"input": {"exchangeBonusPoints": 25}})
    order = order_input(member_id)
    service.ok(ORDER, {"input": order})
    ex = service.ok(RETURN, {"input": {"orderId": order["orderId"], "returnId": "x1", "resolution": "EXCHANGE",
                                       "lines": [{"lineItemId": "1", "amount": "3000"}]}})["orderReturnRecord"]
    assert (ex["pointsReversed"], ex["bonusPoints"]) == (0, 25)
    w = service.ok(RETURN, {"input": {"orderId": order["orderId"], "returnId": "w1", "resolution": "WARRANTY_EXCHANGE",
                                      "lines": [{"lineItemId": "2", "amount": "4000"}]}})["orderReturnRecord"]
    assert (w["pointsReversed"], w["bonusPoints"]) == (0, 0)
    p = points(enrolled)
    assert (p["pending"], p["available"]) == (100, 25)
    rate = admin.ok("query($id: ID!) { member(id: $id) { returnRate { orders returns rate } } }", {"id": member_id})
    assert rate["member"]["returnRate"] == {"orders": 1, "returns": 1, "rate": "1.0000"}
    assert "FORBIDDEN" in enrolled("{ me { returnRate { rate } } }").error_codes()
    assert_books_balance(tenant, member_id)


def test_no_exchange_bonus_above_the_programs_return_rate(service, enrolled, member_id, admin, tenant,
                                                         fresh_program):
    gate = """mutation($rate: Decimal!) { programUpdate(input: {exchangeBonusPoints: 25, exchangeBonusMaxReturnRate: $rate})
              { program { exchangeBonusMaxReturnRate } userErrors { field code } } }"""
    refused = admin.ok(gate, {"rate": "1.5"})["programUpdate"]
    assert refused["userErrors"] == [{"field": "exchangeBonusMaxReturnRate", "code": "OUT_OF_RANGE"}]
    assert admin.ok(gate, {"rate": "0.5"})["programUpdate"] == {
        "program": {"exchangeBonusMaxReturnRate": "0.5"}, "userErrors": []}
    first, second = order_input(member_id), order_input(member_id)
    for order in (first, second):
        service.ok(ORDER, {"input": order})

    def exchange(order, return_id):
        return service.ok(RETURN, {"input": {"orderId": order["orderId"], "returnId": return_id,
                                             "resolution": "EXCHANGE",
                                             "lines": [{"lineItemId": "1", "amount": "3000"}]}})["orderReturnRecord"]

    # One order of two comes back: a rate of 0.5 is not above the gate, the bonus is paid.
    assert (exchange(first, "x1")["bonusPoints"], points(enrolled)["available"]) == (25, 25)
    # Both orders came back (1.0): no bonus, and nothing else changes.
    assert exchange(second, "x2")["bonusPoints"] == 0
    assert points(enrolled)["available"] == 25
    assert exchange(second, "x2")["duplicate"] is True
    assert_books_balance(tenant, member_id)


def test_redeem_spends_points_for_a_coupon_the_storefront_consumes_once(client, idp, enrolled, member_id, admin,
                                                                         tenant):
    reward_id = f"r-{uuid.uuid4().hex[:8]}"
    admin.ok(REWARD, {"input": {"id": reward_id, "name": "500 yen off", "kind": "FIXED_AMOUNT_DISCOUNT",
                                "pointsCost": 40, "value": "500", "currency": "JPY"}})
    give(admin, member_id, 100)
    out = enrolled.ok(REDEEM, {"rewardId": reward_id})["rewardRedeem"]
    code = out["redemption"]["code"]
    assert out["redemption"]["points"] == 40 and out["redemption"]["status"] == "ISSUED"
    assert points(enrolled)["available"] == 60
    store = client.as_(idp.service_token())
    valid = store.ok("query($c: String!) { couponValidate(code: $c) { status points reward { rewardId } } }",
                     {"c": code})
    assert valid["couponValidate"] == {"status": "ISSUED", "points": 40, "reward": {"rewardId": reward_id}}
    consume = "mutation($c: String!, $o: ID!) { couponConsume(code: $c, orderId: $o) { redemption { status } userErrors { code } } }"
    assert store.ok(consume, {"c": code, "o": "9001"})["couponConsume"]["redemption"]["status"] == "CONSUMED"
    assert store.ok(consume, {"c": code, "o": "9002"})["couponConsume"]["userErrors"] == [{"code": "ALREADY_CONSUMED"}]
    cancel = "mutation($c: String!) { redemptionCancel(code: $c) { redemption { status } userErrors { code } } }"
    assert enrolled.ok(cancel, {"c": code})["redemptionCancel"]["userErrors"] == [{"code": "ALREADY_CONSUMED"}]
    history = enrolled.ok(HISTORY, {"types": ["REDEEM"]})["me"]["pointsHistory"]["edges"]
    assert [(e["node"]["type"], e["node"]["points"], e["node"]["couponCode"]) for e in history] == [("REDEEM", -40, code)]
    assert_books_balance(tenant, member_id)


def test_cancelling_an_unused_coupon_returns_points_and_stock(enrolled, member_id, admin, tenant, client, idp):
    reward_id = f"r-{uuid.uuid4().hex[:8]}"
    admin.ok(REWARD, {"input": {"id": reward_id, "name": "Tote", "kind": "FREE_PRODUCT", "pointsCost": 30,
                                "productSku": "TOTE", "stockTotal": 1, "perMemberLimit": 1}})
    give(admin, member_id, 100)
    code = enrolled.ok(REDEEM, {"rewardId": reward_id})["rewardRedeem"]["redemption"]["code"]
    again = enrolled.ok(REDEEM, {"rewardId": reward_id})["rewardRedeem"]
    assert [e["code"] for e in again["userErrors"]] in (["OUT_OF_STOCK"], ["LIMIT_REACHED"])
    other = client.as_(idp.member_token(f"m-{uuid.uuid4().hex[:8]}"))
    enroll(other)
    cancel = "mutation($c: String!) { redemptionCancel(code: $c) { redemption { status } userErrors { code } } }"
    assert other.ok(cancel, {"c": code})["redemptionCancel"]["userErrors"] == [{"code": "NOT_FOUND"}]
    assert enrolled.ok(cancel, {"c": code})["redemptionCancel"]["redemption"]["status"] == "CANCELLED"
    assert points(enrolled)["available"] == 100
    assert enrolled.ok(REDEEM, {"rewardId": reward_id})["rewardRedeem"]["redemption"] is not None
    assert_books_balance(tenant, member_id)


def test_redeem_errors_are_typed(enrolled, member_id, admin, member):
    reward_id = f"r-{uuid.uuid4().hex[:8]}"
    admin.ok(REWARD, {"input": {"id": reward_id, "name": "Big", "kind": "FREE_SHIPPING", "pointsCost": 1000}})
    give(admin, member_id, 10)
    assert [e["code"] for e in enrolled.ok(REDEEM, {"rewardId": reward_id})["rewardRedeem"]["userErrors"]] == [
        "INSUFFICIENT_POINTS"]
    assert [e["code"] for e in enrolled.ok(REDEEM, {"rewardId": "no-such"})["rewardRedeem"]["userErrors"]] == [
        "NOT_FOUND"]
    admin.ok(REWARD, {"input": {"id": reward_id, "name": "Big", "kind": "FREE_SHIPPING", "pointsCost": 1,
                                "active": False}})
    assert [e["code"] for e in enrolled.ok(REDEEM, {"rewardId": reward_id})["rewardRedeem"]["userErrors"]] == [
        "NOT_AVAILABLE"]
    assert points(enrolled)["available"] == 10


def test_idempotency_key_replays_the_same_redemption_and_refuses_other_input(enrolled, member_id, admin, tenant):
    a, b = f"r-{uuid.uuid4().hex[:8]}", f"r-{uuid.uuid4().hex[:8]}"
    for rid in (a, b):
        admin.ok(REWARD, {"input": {"id": rid, "name": rid, "kind": "CUSTOM", "pointsCost": 10}})
    give(admin, member_id, 100)
    key = uuid.uuid4().hex
    first = enrolled.ok(REDEEM, {"rewardId": a, "key": key})["rewardRedeem"]["redemption"]
    second = enrolled.ok(REDEEM, {"rewardId": a, "key": key})["rewardRedeem"]["redemption"]
    assert first == second
    other = enrolled.ok(REDEEM, {"rewardId": b, "key": key})["rewardRedeem"]
    assert [e["code"] for e in other["userErrors"]] == ["IDEMPOTENCY_KEY_REUSED"]
    header = enrolled.raw(b'{"query": "mutation { rewardRedeem(rewardId: \\"' + a.encode() +
                          b'\\") { redemption { code } } }"}', headers={"idempotency-key": key})
    assert header.data["rewardRedeem"]["redemption"]["code"] == first["code"]
    assert points(enrolled)["available"] == 90
    assert_books_balance(tenant, member_id)


def test_adjustments_need_a_reason_and_land_in_the_audit_trail(enrolled, member_id, admin, client, idp):
    missing = admin.ok(ADJUST, {"memberId": member_id, "points": 5, "reason": "  "})["pointsAdjust"]
    assert [e["code"] for e in missing["userErrors"]] == ["REQUIRED"]
    below = admin.ok(ADJUST, {"memberId": member_id, "points": -5, "reason": "oops"})["pointsAdjust"]
    assert [e["code"] for e in below["userErrors"]] == ["INSUFFICIENT_POINTS"]
    ok = admin.ok(ADJUST, {"memberId": member_id, "points": 15, "reason": "Goodwill for a late parcel"})
    assert ok["pointsAdjust"]["member"]["points"]["available"] == 15
    trail = admin.ok("{ auditTrail(first: 20) { edges { node { actor action memberId reason detail } } } }")
    entries = [e["node"] for e in trail["auditTrail"]["edges"] if e["node"]["memberId"] == member_id]
    assert entries == [{"actor": "staff:staff-admin", "action": "points.adjust", "memberId": member_id,
                        "reason": "Goodwill for a late parcel", "detail": {"points": 15}}]
    moderator = client.as_(idp.staff_token("mod-1", "kizuna-moderators"))
    assert "FORBIDDEN" in moderator(ADJUST, {"memberId": member_id, "points": 1, "reason": "x"}).error_codes()
    assert "FORBIDDEN" in enrolled(ADJUST, {"memberId": member_id, "points": 1, "reason": "x"}).error_codes()
    assert "FORBIDDEN" in moderator("{ auditTrail { edges { cursor } } }").error_codes()


def test_lots_expire_oldest_first_with_a_warning_before(enrolled, member_id, admin, services, tenant, clock,
                                                        fresh_program):
    admin.ok(PROGRAM, {"input": {"expiryMode": "AFTER_EARNING", "expiryMonths": 1, "expiringSoonDays": 10}})

    def at(month: int, day: int) -> datetime:  # in the past: no other test's lots are due then
        return datetime(2025, month, day, 12, tzinfo=timezone.utc)

    clock.set(at(5, 20))
    give(admin, member_id, 50)  # earned in May: expires when June ends
    clock.set(at(6, 3))
    give(admin, member_id, 30)  # earned in June: expires when July ends
    clock.set(at(6, 5))
    give(admin, member_id, -20)  # spends from the oldest lot: 30 of the first 50 are left
    clock.set(at(6, 25))
    soon = points(enrolled)["expiringSoon"]
    assert (soon["points"], soon["at"]) == (30, "2025-07-01T00:00:00+00:00")
    reminded = jobs(services, tenant).remind_expiring(at(6, 25))
    assert reminded.processed >= 1
    events = [i for i in TableItem.query(keys.member_pk(tenant, member_id), TableItem.SK.startswith(keys.OUTBOX_PREFIX))
              if getattr(i, "event_type", None) == "points.expiring_soon"]
    assert [(e.detail["points"], e.detail["expiresOn"]) for e in events] == [(30, "2025-07-01T00:00:00+00:00")]
    jobs(services, tenant).expire_due(datetime(2025, 6, 30, 23, 59, tzinfo=timezone.utc))
    assert points(enrolled)["available"] == 60  # June has not ended yet
    jobs(services, tenant).expire_due(at(7, 2))
    assert points(enrolled)["available"] == 30
    history = enrolled.ok(HISTORY, {"types": ["EXPIRY"]})["me"]["pointsHistory"]["edges"]
    assert [e["node"]["points"] for e in history] == [-30]
    jobs(services, tenant).expire_due(at(8, 2))
    assert points(enrolled)["available"] == 0
    assert_books_balance(tenant, member_id)


def test_points_expire_after_inactivity(enrolled, member_id, admin, services, tenant, clock, service,
                                        fresh_program):
    admin.ok(PROGRAM, {"input": {"expiryMode": "AFTER_INACTIVITY", "expiryMonths": 2}})
    t0 = datetime.now(timezone.utc)
    clock.set(t0)
    service.ok(ORDER, {"input": order_input(member_id, ordered_at=t0)})
    jobs(services, tenant).release_due(t0 + timedelta(days=31))
    assert points(enrolled)["available"] == 100
    assert jobs(services, tenant).expire_inactive(t0 + timedelta(days=50)).processed == 0
    jobs(services, tenant).expire_inactive(t0 + timedelta(days=63))
    assert points(enrolled)["available"] == 0
    assert_books_balance(tenant, member_id)


def test_history_pages_newest_first(enrolled, member_id, admin, clock):
    t0 = datetime.now(timezone.utc)
    for i in range(5):
        clock.set(t0 + timedelta(minutes=i))
        give(admin, member_id, i + 1)
    seen, after = [], None
    while True:
        page = enrolled.ok(HISTORY, {"first": 2, "after": after})["me"]["pointsHistory"]
        seen += [e["node"]["points"] for e in page["edges"]]
        if not page["pageInfo"]["hasNextPage"]:
            break
        after = page["pageInfo"]["endCursor"]
    assert seen == [5, 4, 3, 2, 1]


def test_actions_earn_once_per_reference_within_caps_and_cooldowns(service, enrolled, member_id, admin, clock,
                                                                    fresh_program):
    rule = """mutation($input: ActionRuleInput!) { actionRuleSet(input: $input) { userErrors { code } } }"""
    assert admin.ok(rule, {"input": {"action": "review_written", "points": 20, "capPerPeriod": 2, "period": "MONTH",
                                     "cooldownSeconds": 60}})["actionRuleSet"]["userErrors"] == []
    act = """mutation($m: ID!, $r: String!) { activityRecord(memberId: $m, action: "review_written", reference: $r)
             { points userErrors { code } } }"""
    t0 = datetime(2026, 11, 2, 9, tzinfo=timezone.utc)
    clock.set(t0)
    assert service.ok(act, {"m": member_id, "r": "rev-1"})["activityRecord"] == {"points": 20, "userErrors": []}
    assert service.ok(act, {"m": member_id, "r": "rev-1"})["activityRecord"]["userErrors"] == [{"code": "ALREADY_CREDITED"}]
    assert service.ok(act, {"m": member_id, "r": "rev-2"})["activityRecord"]["userErrors"] == [{"code": "COOLDOWN"}]
    clock.set(t0 + timedelta(minutes=2))
    assert service.ok(act, {"m": member_id, "r": "rev-2"})["activityRecord"]["points"] == 20
    clock.set(t0 + timedelta(minutes=4))
    assert service.ok(act, {"m": member_id, "r": "rev-3"})["activityRecord"]["userErrors"] == [{"code": "CAP_REACHED"}]
    clock.set(datetime(2026, 12, 1, tzinfo=timezone.utc))
    assert service.ok(act, {"m": member_id, "r": "rev-3"})["activityRecord"]["points"] == 20
    unknown = service.ok("""mutation($m: ID!) { activityRecord(memberId: $m, action: "nope", reference: "x")
                           { userErrors { code } } }""", {"m": member_id})
    assert unknown["activityRecord"]["userErrors"] == [{"code": "NOT_FOUND"}]
    assert points(enrolled)["available"] == 60


def test_program_changes_are_validated_and_audited(admin, enrolled, fresh_program):
    bad = admin.ok(PROGRAM, {"input": {"returnWindowDays": 1000, "earnRates": [{"currency": "yen", "unitAmount": "0"}]}})
    assert len(bad["programUpdate"]["userErrors"]) >= 2
    good = admin.ok(PROGRAM, {"input": {"returnWindowDays": 14}, })["programUpdate"]
    assert good["program"]["returnWindowDays"] == 14
    assert admin.ok("{ program { returnWindowDays } }")["program"]["returnWindowDays"] == 14
    assert "FORBIDDEN" in enrolled("{ program { returnWindowDays } }").error_codes()


def test_birthday_points_arrive_once_a_year_on_the_day(client, idp, admin, services, tenant, fresh_program):
    rule = """mutation($input: ActionRuleInput!) { actionRuleSet(input: $input) { userErrors { code } } }"""
    admin.ok(rule, {"input": {"action": "birthday", "points": 200, "capPerPeriod": 1, "period": "YEAR"}})
    member_id = f"m-{uuid.uuid4().hex[:8]}"
    me = client.as_(idp.member_token(member_id))
    enroll(me, birthday="1990-02-28")
    leap_baby = client.as_(idp.member_token(f"m-{uuid.uuid4().hex[:8]}"))
    enroll(leap_baby, birthday="1992-02-29")
    day = datetime(2027, 2, 28, 6, tzinfo=timezone.utc)
    report = jobs(services, tenant).birthdays(day)
    assert report.processed >= 2
    assert points(me)["available"] == 200 and points(leap_baby)["available"] == 200
    again = jobs(services, tenant).birthdays(day + timedelta(hours=5))
    assert again.processed == 0 and points(me)["available"] == 200
    change = """mutation($b: Date!) { memberUpdateProfile(input: {birthday: $b}) { userErrors { code } } }"""
    me.ok(change, {"b": "1990-03-15"})
    assert jobs(services, tenant).birthdays(datetime(2028, 2, 28, tzinfo=timezone.utc)).processed == 0
    jobs(services, tenant).birthdays(datetime(2028, 3, 15, tzinfo=timezone.utc))
    assert points(me)["available"] == 400


def test_birthdays_and_daily_caps_follow_the_brands_time_zone(client, idp, admin, service, services, tenant, clock,
                                                               fresh_program):
    zone = """mutation($tz: String!) { programUpdate(input: {timezone: $tz}) { program { timezone }
              userErrors { field code } } }"""
    for bad, code in (("Mars/Olympus", "INVALID"), ("../etc/passwd", "INVALID"), ("", "REQUIRED")):
        refused = admin.ok(zone, {"tz": bad})["programUpdate"]
        assert refused == {"program": None, "userErrors": [{"field": "timezone", "code": code}]}
    assert admin.ok("{ program { timezone } }")["program"]["timezone"] == "UTC"
    set_zone = admin.ok(zone, {"tz": "America/Los_Angeles"})["programUpdate"]
    assert set_zone == {"program": {"timezone": "America/Los_Angeles"}, "userErrors": []}
    rule = """mutation($input: ActionRuleInput!) { actionRuleSet(input: $input) { userErrors { code } } }"""
    admin.ok(rule, {"input": {"action": "birthday", "points": 200, "capPerPeriod": 1, "period": "YEAR"}})
    admin.ok(rule, {"input": {"action": "check_in", "points": 5, "capPerPeriod": 1, "period": "DAY"}})
    late_night = client.as_(idp.member_token(f"m-{uuid.uuid4().hex[:8]}"))
    enroll(late_night, birthday="1991-12-31")
    new_year = client.as_(idp.member_token(f"m-{uuid.uuid4().hex[:8]}"))
    enroll(new_year, birthday="1993-01-01")

    # 2027-01-01 03:00 UTC is still 2026-12-31 19:00 in Los Angeles: New Year's Eve there.
    eve = datetime(2027, 1, 1, 3, tzinfo=timezone.utc)
    jobs(services, tenant).birthdays(eve)
    assert points(late_night)["available"] == 200 and points(new_year)["available"] == 0
    jobs(services, tenant).birthdays(eve + timedelta(days=1))
    assert points(new_year)["available"] == 200 and points(late_night)["available"] == 200

    act = """mutation($m: ID!, $r: String!) { activityRecord(memberId: $m, action: "check_in", reference: $r)
             { points userErrors { code } } }"""
    member_id = late_night.ok("{ me { id } }")["me"]["id"]
    clock.set(datetime(2027, 3, 10, 6, tzinfo=timezone.utc))  # 22:00 on March 9 in Los Angeles
    assert service.ok(act, {"m": member_id, "r": "a"})["activityRecord"]["points"] == 5
    clock.set(datetime(2027, 3, 10, 7, 30, tzinfo=timezone.utc))  # 23:30, the same local day: capped
    assert service.ok(act, {"m": member_id, "r": "b"})["activityRecord"]["userErrors"] == [{"code": "CAP_REACHED"}]
    clock.set(datetime(2027, 3, 10, 8, 5, tzinfo=timezone.utc))  # 00:05 on March 10 there: a new day
    assert service.ok(act, {"m": member_id, "r": "b"})["activityRecord"]["points"] == 5
    assert points(late_night)["available"] == 210


def test_joining_earns_signup_and_referral_points_and_completing_the_profile_earns_once(client, idp, admin,
                                                                                         fresh_program):
    rule = """mutation($input: ActionRuleInput!) { actionRuleSet(input: $input) { userErrors { code } } }"""
    for action, pts in (("signup", 100), ("referral", 300), ("profile_completed", 50)):
        assert admin.ok(rule, {"input": {"action": action, "points": pts}})["actionRuleSet"]["userErrors"] == []
    referrer_id = f"m-{uuid.uuid4().hex[:8]}"
    referrer = client.as_(idp.member_token(referrer_id))
    code = enroll(referrer)["referralCode"]
    assert points(referrer)["available"] == 100
    friend = client.as_(idp.member_token(f"m-{uuid.uuid4().hex[:8]}"))
    joined = enroll(friend, referralCode=code)
    assert joined["points"]["available"] == 100  # the payload already shows the signup points
    assert points(referrer)["available"] == 400
    update = """mutation($b: Date!) { memberUpdateProfile(input: {birthday: $b}) { member { points { available } } } }"""
    assert friend.ok(update, {"b": "1991-07-07"})["memberUpdateProfile"]["member"]["points"]["available"] == 150
    assert friend.ok(update, {"b": "1991-07-08"})["memberUpdateProfile"]["member"]["points"]["available"] == 150
