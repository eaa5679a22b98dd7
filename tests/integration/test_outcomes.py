"""Outcomes that never lie: only a failed condition on the part that marks a thing done means
"already done"; DynamoDB refusing the request is an input error; throttling, conflicts and timeouts
are retried, then answered RETRY_LATER with nothing half-written, and the caller's retry completes.

DynamoDB Local cannot throttle or time out: those faults are injected into the real client
(tests/faults.py); everything else runs against DynamoDB Local."""
from __future__ import annotations

import logging
import time
import uuid
from datetime import datetime, timezone
from decimal import Decimal
from typing import Any, Iterator

import pytest
from botocore.exceptions import ClientError, ConnectTimeoutError, EndpointConnectionError, ReadTimeoutError
from pynamodb.exceptions import GetError, PutError, TransactWriteError

from domain.errors import ErrorCode, UserError
from domain.points.orders import Order, OrderLine
from domain.points.program import DEFAULT_PROGRAM, ActionRule
from infra import dynamo_errors, keys
from infra.dynamo_errors import Kind, RetryLater, classify
from infra.items import MemberProfile, TableItem
from infra.members import Members
from infra.points.adjustments import ActionCredits
from infra.points.items import LedgerEntry, OrderRecord, SourceMark
from infra.points.orders import OrderBook, OrderOutcome
from infra.points.program_store import ProgramStore
from infra.transaction import Transaction, TransactionCancelled
from tests.api.points_support import ME_POINTS, ORDER, RETURN, assert_books_balance, order_input
from tests.conftest import ENROLL
from tests.faults import Faults
from tests.support import new_tenant

HUGE = "m" * 3000  # a member id no key can hold: DynamoDB's partition keys are at most 2,048 bytes


@pytest.fixture
def faults(services) -> Iterator[Faults]:
    with Faults() as injected:
        yield injected


@pytest.fixture
def service(client, idp):
    return client.as_(idp.service_token())


@pytest.fixture
def own_tenant(services) -> tuple[str, ProgramStore]:
    """A tenant of the test's own, for infra-level calls: program changes touch no other test."""
    tenant = new_tenant()
    return tenant, ProgramStore(tenant, services.programs)


@pytest.fixture
def signup_points(services, tenant, admin) -> Iterator[int]:
    """The shared API tenant earns 100 points at signup for this test only."""
    rule = """mutation($input: ActionRuleInput!) { actionRuleSet(input: $input) { userErrors { code } } }"""
    assert admin.ok(rule, {"input": {"action": "signup", "points": 100}})["actionRuleSet"]["userErrors"] == []
    yield 100
    ProgramStore(tenant, services.programs).save_program(DEFAULT_PROGRAM, "test", datetime.now(timezone.utc), "reset")


def an_order(member_id: str | None = None, *, email: str | None = None, order_id: str | None = None) -> Order:
    return Order(id=order_id or uuid.uuid4().hex[:16], currency="JPY", ordered_at=datetime.now(timezone.utc),
                 lines=(OrderLine("1", 1, Decimal(10000), category="apparel"),), subtotal=Decimal(10000),
                 total=Decimal(11000), member_id=member_id, email=email)


def partition(tenant: str, member_id: str) -> list[TableItem]:
    return list(TableItem.query(keys.member_pk(tenant, member_id), consistent_read=True))


def kinds(tenant: str, member_id: str) -> list[str]:
    return sorted(type(i).__name__ for i in partition(tenant, member_id))


def enroll_directly(tenant: str, member_id: str) -> None:
    from domain.members import Enrollment

    now = datetime.now(timezone.utc)
    Members(tenant).enroll(member_id, Enrollment("Aiko", f"{uuid.uuid4().hex[:10]}@example.com", None, False),
                           now.isoformat(), int(now.timestamp()))


def raising(e: BaseException) -> Any:
    def run() -> Any:
        raise e
    return run


def client_error(code: str, message: str = "", operation: str = "PutItem", **extra: Any) -> ClientError:
    return ClientError({"Error": {"Code": code, "Message": message}, **extra}, operation)


# -- the rule itself ---------------------------------------------------------------------------------
def test_each_dynamodb_failure_has_exactly_one_kind():
    cancelled = lambda *codes: client_error("TransactionCanceledException", operation="TransactWriteItems",  # noqa: E731
                                            CancellationReasons=[{"Code": c, "Message": ""} for c in codes])
    assert classify(cancelled("ConditionalCheckFailed", "None")) is Kind.CONDITIONAL
    assert classify(cancelled("None", "ValidationError")) is Kind.VALIDATION
    # A refused request never succeeds, even where another part's condition failed too.
    assert classify(cancelled("ConditionalCheckFailed", "ValidationError")) is Kind.VALIDATION
    # A failed condition is a stored fact, whatever else was in the way.
    assert classify(cancelled("ConditionalCheckFailed", "TransactionConflict")) is Kind.CONDITIONAL
    for reason in ("TransactionConflict", "ThrottlingError", "ProvisionedThroughputExceeded"):
        assert classify(cancelled("None", reason)) is Kind.RETRYABLE, reason
    assert classify(cancelled("ItemCollectionSizeLimitExceeded")) is Kind.OTHER
    for code in ("ProvisionedThroughputExceededException", "ThrottlingException", "RequestLimitExceeded",
                 "TransactionInProgressException", "TransactionConflictException", "InternalServerError"):
        assert classify(client_error(code)) is Kind.RETRYABLE, code
        assert classify(PutError("wrapped", client_error(code))) is Kind.RETRYABLE, code  # as pynamodb wraps it
    for e in (ReadTimeoutError(endpoint_url="x"), ConnectTimeoutError(endpoint_url="x"),
              EndpointConnectionError(endpoint_url="x")):
        assert classify(e) is Kind.RETRYABLE and classify(TransactWriteError("wrapped", e)) is Kind.RETRYABLE
    assert classify(client_error("ConditionalCheckFailedException")) is Kind.CONDITIONAL
    assert classify(GetError("wrapped", client_error("ValidationException", "Hash primary key values must be "
                                                                           "under 2048 bytes"))) is Kind.VALIDATION
    # A request we built wrong is our bug, not the caller's input.
    assert classify(client_error("ValidationException", "Invalid UpdateExpression: Syntax error")) is Kind.OTHER
    assert classify(client_error("ResourceNotFoundException")) is Kind.OTHER
    assert classify(MemberProfile.DoesNotExist()) is Kind.OTHER
    assert classify(UserError(ErrorCode.INVALID, "x")) is Kind.OTHER
    assert classify(RetryLater("busy")) is Kind.RETRYABLE


def test_call_retries_what_may_succeed_and_gives_up_within_its_budget():
    attempts = []

    def throttled() -> None:
        attempts.append(1)
        raise PutError("wrapped", client_error("ThrottlingException"))

    started = datetime.now(timezone.utc)
    with pytest.raises(RetryLater):
        dynamo_errors.call(throttled, budget=0.3)
    assert len(attempts) > 1 and (datetime.now(timezone.utc) - started).total_seconds() < 0.3 + 0.1
    outcomes = iter([PutError("wrapped", client_error("ThrottlingException")), None])

    def once_then_fine() -> str:
        e = next(outcomes)
        if e:
            raise e
        return "done"

    assert dynamo_errors.call(once_then_fine) == "done"
    with pytest.raises(UserError) as refused:
        dynamo_errors.call(raising(client_error("ValidationException", "Item size has exceeded the maximum")))
    assert refused.value.code is ErrorCode.INVALID
    with pytest.raises(MemberProfile.DoesNotExist):  # not a fault: the caller's to handle
        dynamo_errors.call(raising(MemberProfile.DoesNotExist()))


# -- the repro: an id no key can hold -----------------------------------------------------------------
@pytest.fixture
def unbounded(monkeypatch):
    """The edge's bounds switched off, as if one were forgotten: the layer below must hold on its own."""
    from domain.points import actions, orders

    monkeypatch.setattr(orders, "validate_order", lambda order, program: order)
    monkeypatch.setattr(actions, "check_reference", lambda reference: None)


def test_an_order_for_an_id_no_key_can_hold_is_an_input_error_never_a_duplicate(own_tenant, unbounded):
    tenant, programs = own_tenant
    order = an_order(HUGE)
    for _ in range(2):  # the second time too: nothing was recorded, so nothing is a duplicate
        with pytest.raises(UserError) as refused:
            OrderBook(tenant, programs).record(order, datetime.now(timezone.utc))
        assert refused.value.code is ErrorCode.INVALID
    assert not list(TableItem.query(keys.order_pk(tenant, order.id), consistent_read=True))


def test_an_action_for_an_id_no_key_can_hold_is_an_input_error_never_already_credited(own_tenant, unbounded):
    tenant, programs = own_tenant
    programs.save_program(DEFAULT_PROGRAM.with_action(ActionRule("review", 20)), "test", datetime.now(timezone.utc))
    credits = ActionCredits(tenant, programs, OrderBook(tenant, programs))
    for _ in range(2):
        with pytest.raises(UserError) as refused:
            credits.record(HUGE, "review", "r-1", datetime.now(timezone.utc))
        assert refused.value.code is ErrorCode.INVALID


def test_a_validation_error_cancellation_is_never_a_transaction_cancelled(own_tenant):
    tenant, _ = own_tenant
    tx = Transaction()
    tx.put("mark", SourceMark(keys.member_pk(tenant, HUGE), "SRC#x", cause="x", created_at="now"),
           SourceMark.PK.does_not_exist())
    with pytest.raises(UserError) as refused:
        tx.commit()
    assert refused.value.code is ErrorCode.INVALID and not isinstance(refused.value, TransactionCancelled)


def test_reads_and_plain_writes_refused_by_dynamodb_are_input_errors(own_tenant):
    tenant, programs = own_tenant
    with pytest.raises(UserError) as refused:
        Members(tenant).get(HUGE)
    assert refused.value.code is ErrorCode.INVALID
    with pytest.raises(UserError):
        OrderBook(tenant, programs).owner("o" * 3000)


def test_an_injected_validation_cancellation_on_the_order_mark_is_not_a_duplicate(own_tenant, faults):
    tenant, programs = own_tenant
    member_id = f"m-{uuid.uuid4().hex[:10]}"
    enroll_directly(tenant, member_id)
    fault = faults.cancel("ValidationError")  # on the first part: the order mark itself
    with pytest.raises(UserError) as refused:
        OrderBook(tenant, programs).record(an_order(member_id), datetime.now(timezone.utc))
    assert refused.value.code is ErrorCode.INVALID and fault.injected == 1  # never retried: it cannot succeed
    assert kinds(tenant, member_id) == ["MemberProfile", "OutboxEvent"]


def test_a_refused_part_outweighs_a_failed_condition_on_the_order_mark(own_tenant, faults):
    """The order mark's condition failed, but the profile update was refused as sent: the request can
    never succeed, and it is not a duplicate of anything."""
    tenant, programs = own_tenant
    member_id = f"m-{uuid.uuid4().hex[:10]}"
    enroll_directly(tenant, member_id)
    faults.cancel(at={0: "ConditionalCheckFailed", -1: "ValidationError"})  # the order mark, the profile
    with pytest.raises(UserError) as refused:
        OrderBook(tenant, programs).record(an_order(member_id), datetime.now(timezone.utc))
    assert refused.value.code is ErrorCode.INVALID


def test_only_the_parts_whose_condition_failed_are_named_in_a_cancellation(own_tenant, faults):
    """A conflict on the order mark next to a failed balance condition: the order is not "already
    done"; the balance is read from the failure and the order credited."""
    tenant, programs = own_tenant
    member_id = f"m-{uuid.uuid4().hex[:10]}"
    enroll_directly(tenant, member_id)
    profile = faults.client.get_item(TableName=TableItem.Meta.table_name, ConsistentRead=True,
                                     Key={"PK": {"S": keys.member_pk(tenant, member_id)}, "SK": {"S": keys.PROFILE}})
    fault = faults.cancel(at={0: "TransactionConflict", -1: {"Code": "ConditionalCheckFailed", "Item": profile["Item"]}},
                          times=1)
    result = OrderBook(tenant, programs).record(an_order(member_id), datetime.now(timezone.utc))
    assert (result.outcome, fault.injected) == (OrderOutcome.CREDITED, 1)
    assert_books_balance(tenant, member_id)


def test_a_failed_condition_on_the_order_mark_is_still_the_one_duplicate(own_tenant):
    tenant, programs = own_tenant
    member_id = f"m-{uuid.uuid4().hex[:10]}"
    enroll_directly(tenant, member_id)
    book = OrderBook(tenant, programs)
    order = an_order(member_id)
    assert book.record(order, datetime.now(timezone.utc)).outcome is OrderOutcome.CREDITED
    assert book.record(order, datetime.now(timezone.utc)).outcome is OrderOutcome.DUPLICATE


# -- faults DynamoDB Local cannot make ------------------------------------------------------------------
def test_a_conflicting_transaction_is_retried_and_then_succeeds(own_tenant, faults):
    tenant, programs = own_tenant
    member_id = f"m-{uuid.uuid4().hex[:10]}"
    enroll_directly(tenant, member_id)
    fault = faults.cancel("TransactionConflict", times=3)
    result = OrderBook(tenant, programs).record(an_order(member_id), datetime.now(timezone.utc))
    assert (result.outcome, result.points, fault.injected, fault.sends) == (OrderOutcome.CREDITED, 100, 3, 4)
    assert_books_balance(tenant, member_id)


def test_order_record_under_throttling_answers_retry_later_writes_nothing_and_its_retry_credits_once(
        service, enrolled, member_id, tenant, faults, caplog):
    before = kinds(tenant, member_id)
    order = order_input(member_id)
    fault = faults.throttle()
    started = time.monotonic()
    with caplog.at_level(logging.WARNING, logger="kizuna.graphql"):
        r = service(ORDER, {"input": order})
    assert r.error_codes() == ["RETRY_LATER"] and not (r.data or {}).get("orderRecord"), r.body
    assert time.monotonic() - started < 3, "the caller hears RETRY_LATER within a bounded time"
    assert fault.injected > 1  # botocore's retries and ours, each a real send to the hook
    warned = [x for x in caplog.records if x.levelno == logging.WARNING and x.name == "kizuna.graphql"]
    assert warned and warned[0].correlation_id == r.errors[0]["extensions"]["correlationId"]
    assert kinds(tenant, member_id) == before  # nothing written: no order, entry, lot or event
    assert not list(TableItem.query(keys.order_pk(tenant, order["orderId"]), consistent_read=True))
    faults.clear()
    again = service.ok(ORDER, {"input": order})["orderRecord"]
    assert (again["outcome"], again["points"]) == ("CREDITED", 100)
    assert service.ok(ORDER, {"input": order})["orderRecord"]["outcome"] == "DUPLICATE"
    assert enrolled.ok(ME_POINTS)["me"]["points"]["pending"] == 100
    assert_books_balance(tenant, member_id)


def test_order_record_when_dynamodb_never_answers_is_retry_later_and_its_retry_credits_once(
        service, enrolled, member_id, tenant, faults):
    before = kinds(tenant, member_id)
    order = order_input(member_id)
    faults.timeout()
    r = service(ORDER, {"input": order})
    assert r.error_codes() == ["RETRY_LATER"], r.body
    assert kinds(tenant, member_id) == before
    faults.clear()
    assert service.ok(ORDER, {"input": order})["orderRecord"]["outcome"] == "CREDITED"
    assert_books_balance(tenant, member_id)


def test_a_lost_answer_after_the_write_landed_is_retried_as_the_same_request_and_credits_once(
        own_tenant, faults):
    """The timeout hides that DynamoDB applied the transaction. The retry carries the same
    ClientRequestToken, so DynamoDB answers it as done: CREDITED, not a DUPLICATE of itself."""
    tenant, programs = own_tenant
    member_id = f"m-{uuid.uuid4().hex[:10]}"
    enroll_directly(tenant, member_id)
    # Every send of botocore's first call is applied and its answer lost; our retry gets through.
    fault = faults.timeout(after_sending=True, times=faults.botocore_attempts)
    result = OrderBook(tenant, programs).record(an_order(member_id), datetime.now(timezone.utc))
    assert (result.outcome, result.points) == (OrderOutcome.CREDITED, 100)
    assert fault.sends == faults.botocore_attempts + 1
    entries = [i for i in partition(tenant, member_id) if isinstance(i, LedgerEntry)]
    assert [(e.entry_type, int(e.points)) for e in entries] == [("EARN", 100)]
    assert_books_balance(tenant, member_id)


def test_throttled_reads_answer_retry_later_not_internal(enrolled, faults):
    faults.throttle("Query")
    r = enrolled(ME_POINTS)
    assert r.error_codes() == ["RETRY_LATER"], r.body
    faults.clear()
    assert enrolled.ok(ME_POINTS)["me"]["points"]["available"] == 0


# -- multi-step use cases: a fault midway, then the caller's retry completes -----------------------------
def test_an_enrollment_whose_welcome_credit_failed_completes_when_retried(member, member_id, tenant, faults,
                                                                         signup_points):
    enrollment = {"input": {"name": "Aiko", "email": f"{uuid.uuid4().hex[:10]}@example.com"}}
    faults.throttle(skip=1)  # the enrollment commits; the signup credit after it is throttled
    r = member(ENROLL, enrollment)
    assert r.error_codes() == ["RETRY_LATER"], r.body
    assert kinds(tenant, member_id) == ["MemberProfile", "OutboxEvent"]  # enrolled, not yet credited
    faults.clear()
    for _ in range(2):  # the retry completes the welcome; a further repeat changes nothing
        payload = member.ok(ENROLL, enrollment)["memberEnroll"]
        assert payload["userErrors"] == [] and payload["member"]["points"]["available"] == signup_points
    other = member.ok(ENROLL, {"input": {"name": "Someone else", "email": "else@example.com"}})["memberEnroll"]
    assert [e["code"] for e in other["userErrors"]] == ["ALREADY_ENROLLED"]
    assert_books_balance(tenant, member_id)


def test_a_held_order_with_a_refund_is_credited_and_reversed_once_although_enrollment_failed_midway(
        service, client, idp, member_id, tenant, faults):
    email = f"{uuid.uuid4().hex[:10]}@example.com"
    member = client.as_(idp.member_token(member_id, email=email))  # the IdP vouches for the email
    order = order_input(None, email=email)
    assert service.ok(ORDER, {"input": order})["orderRecord"]["outcome"] == "HELD_FOR_ENROLLMENT"
    refund = {"orderId": order["orderId"], "returnId": "r-1", "resolution": "REFUND",
              "lines": [{"lineItemId": "1", "amount": "6000"}]}
    assert service.ok(RETURN, {"input": refund})["orderReturnRecord"]["userErrors"] == []
    enrollment = {"input": {"name": "Ren", "email": email}}
    faults.throttle(skip=2)  # enrolled, order credited; the refund's reversal is throttled
    assert member(ENROLL, enrollment).error_codes() == ["RETRY_LATER"]
    faults.clear()
    payload = member.ok(ENROLL, enrollment)["memberEnroll"]
    assert payload["userErrors"] == []
    # 100 points on 10,000 JPY of goods; the two tees refunded (6,000 of it) take back 60.
    assert payload["member"]["points"] == {"available": 0, "pending": 40, "lifetime": 100, "debt": 0}
    assert not list(TableItem.query(keys.email_pk(tenant, email), TableItem.SK.startswith("ORDER#"),
                                    consistent_read=True))  # the held order is released, once all is applied
    assert_books_balance(tenant, member_id)
    assert [int(r.pending_points) for r in partition(tenant, member_id) if isinstance(r, OrderRecord)] == [40]
