"""Returns and refunds are checked against what is left of each line of the order: units and money.

A return that asks more than is left of a line, names a line the order does not have, or belongs to an
unknown order is refused with every problem at once and writes nothing; partial refunds add up; the
points taken back follow the money; the payload says what is left of every line; two refunds at once
that each fit but together do not can never both land."""
from __future__ import annotations

import json
import threading
import uuid
from collections import Counter
from datetime import datetime, timezone
from typing import Any, Iterator

import httpx
import pytest

from api.http import Api
from bench.common import DynamoCallCounter
from infra import keys
from infra.points import orders as order_store
from infra.items.base import TableItem
from infra.points.items import OrderRecord
from infra.points.orders import OrderBook
from tests.api.points_support import ME_POINTS, ORDER, assert_books_balance, order_input
from tests.conftest import enroll
from tests.integration.test_ledger_properties import raw_partition
from tests.support import live_server as serve

RETURN = """mutation R($input: OrderReturnInput!) {
  orderReturnRecord(input: $input) {
    orderId pointsReversed bonusPoints duplicate
    remaining { lineItemId quantity quantityLeft amount amountLeft points pointsLeft }
    userErrors { field code message } } }"""
# One line of 2,400 JPY (24 points at the default 1 point per 100 JPY) and one of 2 x 3,800 (76 points).
LINES = [{"id": "1", "quantity": 1, "price": "2400", "sku": "MUG"},
         {"id": "2", "quantity": 2, "price": "3800", "sku": "TEE"}]


@pytest.fixture
def service(client, idp):
    return client.as_(idp.service_token())


def new_order(service, member_id: str | None, **kw: Any) -> str:
    order = order_input(member_id, lines=LINES, subtotal="10000", total="11000", **kw)
    out = service.ok(ORDER, {"input": order})["orderRecord"]
    assert out["userErrors"] == [] and out["outcome"] in ("CREDITED", "HELD_FOR_ENROLLMENT"), out
    return order["orderId"]


def send(service, order_id: str, lines: list[dict[str, Any]], *, return_id: str | None = None,
         resolution: str = "REFUND") -> dict[str, Any]:
    return service.ok(RETURN, {"input": {"orderId": order_id, "returnId": return_id or f"r-{uuid.uuid4().hex[:8]}",
                                         "resolution": resolution, "lines": lines}})["orderReturnRecord"]


def left(payload: dict[str, Any]) -> dict[str, tuple]:
    """line -> (units left, money left, points left)."""
    return {x["lineItemId"]: (x["quantityLeft"], x["amountLeft"], x["pointsLeft"]) for x in payload["remaining"]}


def stored(tenant: str, member_id: str) -> dict[tuple[str, str], dict[str, Any]]:
    """Every item of the member's partition, as stored: a refused return must leave all of them as they were."""
    return {(x["PK"]["S"], x["SK"]["S"]): x for x in raw_partition(keys.member_pk(tenant, member_id))}


def points(member) -> dict[str, int]:
    p = member.ok(ME_POINTS)["me"]["points"]
    return {k: p[k] for k in ("available", "pending", "debt")}


# -- the rule --------------------------------------------------------------------------------------------
def test_a_refund_of_99999_on_a_2400_line_is_refused_writes_nothing_and_says_what_is_left(service, enrolled,
                                                                                           member_id, tenant):
    order_id = new_order(service, member_id)
    before = stored(tenant, member_id)
    out = send(service, order_id, [{"lineItemId": "1", "amount": "99999"}])
    assert [(e["field"], e["code"]) for e in out["userErrors"]] == [("lines.0.amount", "OUT_OF_RANGE")]
    assert "2,400 left" in out["userErrors"][0]["message"] and "99,999" in out["userErrors"][0]["message"]
    assert (out["pointsReversed"], out["duplicate"]) == (0, False)
    assert out["remaining"] == [
        {"lineItemId": "1", "quantity": 1, "quantityLeft": 1, "amount": "2400", "amountLeft": "2400", "points": 24,
         "pointsLeft": 24},
        {"lineItemId": "2", "quantity": 2, "quantityLeft": 2, "amount": "7600", "amountLeft": "7600", "points": 76,
         "pointsLeft": 76}]
    assert stored(tenant, member_id) == before
    assert points(enrolled) == {"available": 0, "pending": 100, "debt": 0}



def _first_call_waits(real, barrier: threading.Barrier):
    """`real`, except that each thread's first call waits at `barrier` after reading: both requests have
    read the order before either writes, so the race is forced, not hoped for."""
    first = threading.local()

    def wrapper(*args, **kwargs):
        result = real(*args, **kwargs)
        if not getattr(first, "done", False):
            first.done = True
            barrier.wait(timeout=20)
        return result

    return wrapper

def test_partial_refunds_add_up_two_halves_fit_and_a_third_is_refused(service, enrolled, member_id, tenant):
    order_id = new_order(service, member_id)
    first = send(service, order_id, [{"lineItemId": "1", "amount": "1200"}])
    assert (first["userErrors"], first["pointsReversed"], left(first)["1"]) == ([], 12, (1, "1200", 12))
    second = send(service, order_id, [{"lineItemId": "1", "amount": "1200"}])
    assert (second["userErrors"], second["pointsReversed"], left(second)["1"]) == ([], 12, (1, "0", 0))
    before = stored(tenant, member_id)
    third = send(service, order_id, [{"lineItemId": "1", "amount": "1200"}])
    assert [(e["field"], e["code"]) for e in third["userErrors"]] == [("lines.0.amount", "OUT_OF_RANGE")]
    assert stored(tenant, member_id) == before
    # Not a cent more either, and the other line is untouched by all of it.
    assert send(service, order_id, [{"lineItemId": "1", "amount": "0.01"}])["userErrors"][0]["code"] == "OUT_OF_RANGE"
    assert left(third)["2"] == (2, "7600", 76)
    assert points(enrolled) == {"available": 0, "pending": 76, "debt": 0}
    assert_books_balance(tenant, member_id)


def test_units_are_checked_against_the_units_left_and_points_follow_the_money(service, enrolled, member_id, tenant):
    order_id = new_order(service, member_id)
    one = send(service, order_id, [{"lineItemId": "2", "amount": "3800", "quantity": 1}])
    assert (one["pointsReversed"], left(one)["2"]) == (38, (1, "3800", 38))
    # A money-only refund (a price adjustment) uses no units: 380 of the second tee's price, 3 points.
    adjusted = send(service, order_id, [{"lineItemId": "2", "amount": "380", "quantity": 0}])
    assert (adjusted["userErrors"], adjusted["pointsReversed"], left(adjusted)["2"]) == ([], 3, (1, "3420", 35))
    over = send(service, order_id, [{"lineItemId": "2", "amount": "100", "quantity": 2}])
    assert [(e["field"], e["code"]) for e in over["userErrors"]] == [("lines.0.quantity", "OUT_OF_RANGE")]
    assert "1 of 2 left" in over["userErrors"][0]["message"]
    last = send(service, order_id, [{"lineItemId": "2", "amount": "3420", "quantity": 1}])
    assert (last["pointsReversed"], left(last)["2"]) == (35, (0, "0", 0))
    assert send(service, order_id, [{"lineItemId": "2", "amount": "0", "quantity": 1}])["userErrors"][0]["field"] == \
        "lines.0.quantity"
    assert points(enrolled)["pending"] == 24
    assert_books_balance(tenant, member_id)


def test_every_problem_of_a_return_is_reported_at_once_with_its_field_path(service, enrolled, member_id, tenant):
    order_id = new_order(service, member_id)
    before = stored(tenant, member_id)
    out = send(service, order_id, [
        {"lineItemId": "1", "amount": "2401"},  # a yen over the line
        {"lineItemId": "no-such-line", "amount": "10"},
        {"lineItemId": "2", "amount": "100", "quantity": 3},  # 2 were bought
        {"lineItemId": "2", "amount": "-5"},
        {"lineItemId": "2", "amount": "1", "quantity": -1},
    ])
    assert sorted((e["field"], e["code"]) for e in out["userErrors"]) == [
        ("lines.0.amount", "OUT_OF_RANGE"), ("lines.1.lineItemId", "NOT_FOUND"), ("lines.2.quantity", "OUT_OF_RANGE"),
        ("lines.3.amount", "OUT_OF_RANGE"), ("lines.4.quantity", "OUT_OF_RANGE")]
    assert stored(tenant, member_id) == before


def test_a_line_named_twice_in_one_return_counts_with_both_amounts(service, enrolled, member_id, tenant):
    order_id = new_order(service, member_id)
    out = send(service, order_id, [{"lineItemId": "1", "amount": "1500"}, {"lineItemId": "1", "amount": "1500"}])
    assert [(e["field"], e["code"]) for e in out["userErrors"]] == [("lines.1.amount", "OUT_OF_RANGE")]
    fits = send(service, order_id, [{"lineItemId": "1", "amount": "1200"}, {"lineItemId": "1", "amount": "1200"}])
    assert (fits["userErrors"], fits["pointsReversed"], left(fits)["1"]) == ([], 24, (1, "0", 0))
    assert_books_balance(tenant, member_id)


def test_a_return_of_an_unknown_order_is_not_found_with_its_own_mistakes(service, enrolled):
    out = send(service, "no-such-order", [{"lineItemId": "1", "amount": "-1"}])
    assert sorted((e["field"], e["code"]) for e in out["userErrors"]) == [("lines.0.amount", "OUT_OF_RANGE"),
                                                                         ("orderId", "NOT_FOUND")]
    assert out["remaining"] is None


def test_a_repeated_return_is_a_duplicate_even_once_the_line_is_used_up(service, enrolled, member_id, tenant):
    order_id = new_order(service, member_id)
    full = send(service, order_id, [{"lineItemId": "1", "amount": "2400"}], return_id="r-full")
    assert (full["pointsReversed"], left(full)["1"]) == (24, (1, "0", 0))
    before = stored(tenant, member_id)
    again = send(service, order_id, [{"lineItemId": "1", "amount": "2400"}], return_id="r-full")
    assert (again["userErrors"], again["duplicate"], again["pointsReversed"], left(again)["1"]) == (
        [], True, 0, (1, "0", 0))
    assert stored(tenant, member_id) == before


def test_exchanges_must_fit_what_is_left_but_use_none_of_it_store_credit_uses_it_up(service, enrolled, member_id,
                                                                                    admin, tenant, fresh_program):
    admin.ok("mutation { programUpdate(input: {exchangeBonusPoints: 10, storeCreditPoints: KEEP}) "
             "{ userErrors { code } } }")
    order_id = new_order(service, member_id)
    ex = send(service, order_id, [{"lineItemId": "1", "amount": "2400", "quantity": 1}], resolution="EXCHANGE")
    assert (ex["userErrors"], ex["bonusPoints"], left(ex)["1"]) == ([], 10, (1, "2400", 24))
    credit = send(service, order_id, [{"lineItemId": "1", "amount": "2000", "quantity": 1}], resolution="STORE_CREDIT")
    assert (credit["userErrors"], credit["pointsReversed"], left(credit)["1"]) == ([], 0, (0, "400", 24))
    for resolution in ("EXCHANGE", "WARRANTY_EXCHANGE", "REFUND"):
        refused = send(service, order_id, [{"lineItemId": "1", "amount": "500"}], resolution=resolution)
        assert [(e["field"], e["code"]) for e in refused["userErrors"]] == [("lines.0.amount", "OUT_OF_RANGE")]
    # Store credit kept the points: the last 400 refunded in money take back only their own share.
    rest = send(service, order_id, [{"lineItemId": "1", "amount": "400"}])
    assert (rest["pointsReversed"], left(rest)["1"]) == (4, (0, "0", 20))
    assert_books_balance(tenant, member_id)


@pytest.fixture
def fresh_program(services, tenant):
    yield
    from domain.points.program import DEFAULT_PROGRAM
    from infra.points.program_store import ProgramStore

    ProgramStore(tenant, services.programs).save_program(DEFAULT_PROGRAM, "test", datetime.now(timezone.utc), "reset")


def test_an_order_recorded_before_quantities_were_kept_is_checked_by_its_paid_share(service, enrolled, member_id,
                                                                                    tenant):
    order_id = new_order(service, member_id)
    record = OrderRecord.get(keys.member_pk(tenant, member_id), keys.order_sk(order_id), consistent_read=True)
    # As such records are stored: paid, points, refunded and reversed only.
    old = [{k: x[k] for k in ("id", "category", "paid", "points", "refunded", "reversed")} for x in record.lines]
    old[0]["refunded"] = "600.0000"  # a refund of a quarter, applied before returns were checked
    old[0]["reversed"] = 6
    record.update(actions=[OrderRecord.lines.set(old)])
    out = send(service, order_id, [{"lineItemId": "1", "amount": "1801", "quantity": 50}])
    assert [(e["field"], e["code"]) for e in out["userErrors"]] == [("lines.0.amount", "OUT_OF_RANGE")]
    assert left(out)["1"] == (None, "1800", 18)
    fits = send(service, order_id, [{"lineItemId": "1", "amount": "1800", "quantity": 1}])
    assert (fits["userErrors"], fits["pointsReversed"], left(fits)["1"]) == ([], 18, (None, "0", 0))


# -- held orders (the customer has not enrolled yet) ------------------------------------------------------
def test_returns_of_a_held_order_are_checked_when_kept_and_applied_when_it_is_claimed(service, member, member_id,
                                                                                     idp, tenant):
    email = f"held.{uuid.uuid4().hex[:8]}@example.com"
    order_id = new_order(service, None, email=email)
    kept = send(service, order_id, [{"lineItemId": "2", "amount": "3800", "quantity": 1}])
    assert (kept["userErrors"], kept["pointsReversed"], left(kept)["2"]) == ([], 0, (1, "3800", 0))
    over = send(service, order_id, [{"lineItemId": "2", "amount": "3801"}])
    assert [(e["field"], e["code"]) for e in over["userErrors"]] == [("lines.0.amount", "OUT_OF_RANGE")]
    assert len(_held(tenant, email, order_id).refunds) == 1
    member = member.as_(idp.member_token(member_id, email=email))
    enroll(member, email=email)
    assert points(member) == {"available": 0, "pending": 62, "debt": 0}  # 100 earned, 38 taken back
    after = send(service, order_id, [{"lineItemId": "2", "amount": "3801"}])
    assert left(after)["2"] == (1, "3800", 38)
    assert_books_balance(tenant, member_id)


def test_a_held_return_kept_before_returns_were_checked_that_does_not_fit_is_dropped_when_claimed(
        service, member, member_id, idp, tenant, caplog):
    email = f"held.{uuid.uuid4().hex[:8]}@example.com"
    order_id = new_order(service, None, email=email)
    held = _held(tenant, email, order_id)
    held.update(actions=[type(held).refunds.set([  # as kept before returns were checked: far more than the line
        {"orderId": order_id, "returnId": "r-old", "resolution": "REFUND",
         "lines": [{"lineId": "1", "amount": "99999"}]},
        {"orderId": order_id, "returnId": "r-fits", "resolution": "REFUND",
         "lines": [{"lineId": "2", "amount": "3800"}]}])])
    member = member.as_(idp.member_token(member_id, email=email))
    with caplog.at_level("WARNING", logger="kizuna.points"):
        enroll(member, email=email)  # the enrollment is not blocked by it
    assert points(member) == {"available": 0, "pending": 62, "debt": 0}  # the one that fits is applied
    assert [r.getMessage() for r in caplog.records if "r-old" in r.getMessage()] == [
        f"held return r-old of order {order_id} does not fit the order and is dropped: "
        "[('lines.0.amount', 'OUT_OF_RANGE')]"]
    assert_books_balance(tenant, member_id)


def _held(tenant: str, email: str, order_id: str):
    from infra.points.items import UnclaimedOrder

    return UnclaimedOrder.get(keys.email_pk(tenant, email), f"ORDER#{order_id}", consistent_read=True)


# -- DynamoDB calls -----------------------------------------------------------------------------------------
def test_what_is_left_comes_with_the_order_read_a_return_makes_anyway(service, enrolled, member_id, services):
    """A refund costs what it cost before the check: the owner, the order and the profile read, one
    transaction. A refused one writes nothing; it only also reads its own mark (a replay is a duplicate)."""
    order_id = new_order(service, member_id)
    send(service, order_id, [{"lineItemId": "1", "amount": "1"}])  # the program is cached from here on
    counter = DynamoCallCounter(TableItem._get_connection().connection.client)  # the client the models use now
    try:
        send(service, order_id, [{"lineItemId": "1", "amount": "1000"}])
        applied = list(counter.calls)
        counter.reset()
        send(service, order_id, [{"lineItemId": "1", "amount": "99999"}])
        refused = list(counter.calls)
    finally:
        counter.close()
    assert applied == ["GetItem", "GetItem", "GetItem", "TransactWriteItems"], applied
    assert refused == ["GetItem", "GetItem", "GetItem"], refused


# -- at once ------------------------------------------------------------------------------------------------
@pytest.fixture
def live_server(services, clock) -> Iterator[str]:
    with serve(Api(services, clock=clock)) as url:
        yield url


def _post_all(url: str, token: str, bodies: list[bytes]) -> list[dict[str, Any]]:
    """Send the bodies at once, one thread each, released together; the payloads in order."""
    barrier = threading.Barrier(len(bodies))
    out: list[Any] = [None] * len(bodies)

    def run(i: int) -> None:
        try:
            with httpx.Client(base_url=url, timeout=30) as http:
                barrier.wait(timeout=30)
                r = http.post("/graphql", content=bodies[i], headers={"content-type": "application/json",
                                                                      "authorization": f"Bearer {token}"})
                out[i] = r.json()["data"]["orderReturnRecord"] if r.status_code == 200 else r.text
        except BaseException as e:  # reported by the caller
            out[i] = e

    threads = [threading.Thread(target=run, args=(i,)) for i in range(len(bodies))]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    return out


def _refund_body(order_id: str, amount: str) -> bytes:
    return json.dumps({"query": RETURN, "variables": {"input": {
        "orderId": order_id, "returnId": f"r-{uuid.uuid4().hex[:8]}", "resolution": "REFUND",
        "lines": [{"lineItemId": "1", "amount": amount}]}}}).encode()


def _outcomes(payloads: list[Any]) -> Counter:
    def one(p: Any) -> str:
        assert isinstance(p, dict), p
        return "applied" if not p["userErrors"] else "+".join(f"{e['field']} {e['code']}" for e in p["userErrors"])
    return Counter(one(p) for p in payloads)


@pytest.mark.slow
def test_two_refunds_at_once_that_fit_alone_but_not_together_never_both_land(live_server, service, enrolled,
                                                                             member_id, tenant, idp, services,
                                                                             monkeypatch):
    token = idp.service_token()
    # Forced: both requests have read the order (each sees 2,400 left and 1,500 fits) before either writes.
    order_id = new_order(service, member_id)
    both_read = threading.Barrier(2)
    monkeypatch.setattr(OrderBook, "record_of", _first_call_waits(OrderBook.record_of, both_read))
    counter = DynamoCallCounter(TableItem._get_connection().connection.client)  # the client the models use now
    try:
        raced = _post_all(live_server, token, [_refund_body(order_id, "1500"), _refund_body(order_id, "1500")])
    finally:
        counter.close()
        monkeypatch.undo()
    assert _outcomes(raced) == {"applied": 1, "lines.0.amount OUT_OF_RANGE": 1}, raced
    # Both wrote: the second was stopped by the transaction's condition, then checked again and refused.
    assert counter.calls.count("TransactWriteItems") >= 2, counter.calls
    refused = next(p for p in raced if p["userErrors"])
    assert left(refused)["1"] == (1, "900", 9) and "900 left" in refused["userErrors"][0]["message"]

    # Free-running: eight at once, any two of which are too much, three times over.
    for _ in range(3):
        order_id = new_order(service, member_id)
        payloads = _post_all(live_server, token, [_refund_body(order_id, "1300") for _ in range(8)])
        assert _outcomes(payloads) == {"applied": 1, "lines.0.amount OUT_OF_RANGE": 7}, payloads
    # 1,500 of the 2,400 line took back 15 of its 24 points, each 1,300 took back 13: once per order.
    assert points(enrolled)["pending"] == 4 * 100 - 15 - 3 * 13
    assert_books_balance(tenant, member_id)


@pytest.mark.slow
def test_two_returns_of_a_held_order_at_once_are_not_both_kept_when_only_one_fits(live_server, service, tenant,
                                                                                 idp, services, monkeypatch):
    email = f"held.{uuid.uuid4().hex[:8]}@example.com"
    order_id = new_order(service, None, email=email)
    both_read = threading.Barrier(2)
    monkeypatch.setattr(order_store, "held_lines", _first_call_waits(order_store.held_lines, both_read))
    counter = DynamoCallCounter(TableItem._get_connection().connection.client)  # the client the models use now
    try:
        raced = _post_all(live_server, idp.service_token(),
                          [_refund_body(order_id, "1500"), _refund_body(order_id, "1500")])
    finally:
        counter.close()
        monkeypatch.undo()
    assert _outcomes(raced) == {"applied": 1, "lines.0.amount OUT_OF_RANGE": 1}, raced
    assert counter.calls.count("UpdateItem") >= 2, counter.calls  # the second was stopped by the condition
    assert [r["lines"] for r in _held(tenant, email, order_id).refunds] == [[{"lineId": "1", "amount": "1500"}]]
