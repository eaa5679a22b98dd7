"""A partner's in-app rate limit on DynamoDB Local: one fixed window per partner, counted in the table,
so that every app instance (Lambda container) sharing the table counts against the same limit."""
from __future__ import annotations

import uuid
from datetime import datetime, timedelta, timezone

import boto3
import pytest

from infra import dynamo_errors, keys
from infra.dynamo_errors import RetryLater
from infra.items import TableItem
from infra.partners.rate_limit import KEEP_WINDOWS, PartnerRateWindow, RateLimit
from tests.faults import Faults
from tests.support import all_at_once, new_tenant

# 10 s into a minute: a 60 s window began at 07:30:00 and ends at 07:31:00.
NOW = datetime(2026, 12, 2, 7, 30, 10, tzinfo=timezone.utc)


@pytest.fixture
def partner() -> str:
    return f"p-{uuid.uuid4().hex[:10]}"


@pytest.fixture
def second_container(services):
    """A botocore client of its own, as another Lambda container has: its own connections, same table."""
    s = services.settings
    return boto3.client("dynamodb", endpoint_url=s.dynamodb_endpoint, region_name=s.region,
                        aws_access_key_id="local", aws_secret_access_key="local")


def takes(limit: RateLimit, n: int, now: datetime = NOW) -> list:
    return [limit.take(now) for _ in range(n)]


def test_of_100_rapid_calls_with_a_limit_of_60_a_minute_exactly_the_first_60_are_allowed(services, tenant, partner):
    decisions = takes(RateLimit(tenant, partner, 60, 60), 100)
    assert [d.allowed for d in decisions] == [True] * 60 + [False] * 40
    assert [d.remaining for d in decisions[:60]] == list(range(59, -1, -1))
    assert all(d.retry_after_seconds == 0 for d in decisions[:60])
    assert all(d.remaining == 0 for d in decisions[60:])


def test_two_app_instances_sharing_the_table_allow_exactly_the_limit_in_total_under_concurrency(
        services, tenant, partner, second_container):
    # 10 threads released together, each with its own RateLimit object, half of them in "the other
    # container" (its own client), 10 calls each: 100 calls against one limit of 60 a minute.
    clients = [None, second_container]

    def instance(i: int):
        limit = RateLimit(tenant, partner, 60, 60, client=clients[i % 2])
        return lambda: takes(limit, 10)

    results = all_at_once([instance(i) for i in range(10)])
    assert not [r for r in results if isinstance(r, BaseException)], results
    decisions = [d for r in results for d in r]
    allowed = [d for d in decisions if d.allowed]
    assert len(decisions) == 100
    assert len(allowed) == 60
    # Each allowed call was counted once, atomically: the counts seen are 1..60, each exactly once.
    assert sorted(d.remaining for d in allowed) == list(range(60))
    stored = PartnerRateWindow.get(keys.partner_pk(tenant, partner), keys.rate_window_sk(1796196600),
                                   consistent_read=True)
    assert stored.count == 60


def test_the_next_window_allows_again_while_the_rest_of_the_spent_one_refuses(services, tenant, partner):
    limit = RateLimit(tenant, partner, 60, 60)
    takes(limit, 60)
    assert not limit.take(NOW + timedelta(seconds=49, milliseconds=999)).allowed  # 07:30:59.999
    later = limit.take(NOW + timedelta(seconds=50))  # 07:31:00, the next window
    assert later.allowed and later.remaining == 59


def test_a_refused_call_is_told_to_retry_when_its_window_ends(services, tenant, partner):
    limit = RateLimit(tenant, partner, 3, 60)
    takes(limit, 3)
    assert limit.take(NOW).retry_after_seconds == 50
    assert limit.take(NOW + timedelta(seconds=49, milliseconds=500)).retry_after_seconds == 1
    start = NOW.replace(second=0)
    refused = limit.take(start)
    assert not refused.allowed and refused.retry_after_seconds == 60
    assert limit.take(start + timedelta(seconds=refused.retry_after_seconds)).allowed


def test_partners_and_tenants_do_not_share_counters(services, tenant, partner):
    takes(RateLimit(tenant, partner, 5, 60), 5)
    assert not RateLimit(tenant, partner, 5, 60).take(NOW).allowed
    other_partner = RateLimit(tenant, f"{partner}-2", 5, 60).take(NOW)
    other_tenant = RateLimit(new_tenant(), partner, 5, 60).take(NOW)
    assert other_partner.allowed and other_partner.remaining == 4
    assert other_tenant.allowed and other_tenant.remaining == 4


def test_a_window_is_one_item_that_expires_a_few_windows_after_it_ends(services, tenant, partner):
    takes(RateLimit(tenant, partner, 60, 60), 2)
    window_start = 1796196600  # 2026-12-02T07:30:00Z
    assert int(NOW.replace(second=0).timestamp()) == window_start
    items = TableItem.query(keys.partner_pk(tenant, partner), consistent_read=True)
    [item] = list(items)
    assert isinstance(item, PartnerRateWindow)
    assert item.SK == f"RATE#{window_start}"
    assert item.count == 2
    assert item.expires_at == window_start + 60 + KEEP_WINDOWS * 60


def test_each_call_is_one_conditional_update_and_no_read(services, tenant, partner):
    with Faults() as faults:
        updates = faults.throttle("UpdateItem", times=0)  # times=0: counts the sends, answers none
        reads = [faults.throttle(op, times=0) for op in ("GetItem", "Query", "BatchGetItem", "Scan")]
        decisions = takes(RateLimit(tenant, partner, 3, 60), 5)
    assert [d.allowed for d in decisions] == [True, True, True, False, False]
    assert updates.sends == 5
    assert [r.sends for r in reads] == [0, 0, 0, 0]


def test_a_throttled_call_is_retried_and_then_counted(services, tenant, partner, monkeypatch):
    # botocore sleeps up to a second before each of its own throttle retries; a loaded machine must not
    # turn that into "budget spent": this test is about retrying, the budget has a test of its own below.
    monkeypatch.setattr(dynamo_errors, "API_BUDGET_SECONDS", 60.0)
    limit = RateLimit(tenant, partner, 60, 60)
    with Faults() as faults:
        throttled = faults.throttle("UpdateItem", times=2 * faults.botocore_attempts)
        decision = limit.take(NOW)
    assert throttled.injected == 2 * faults.botocore_attempts
    assert decision.allowed and decision.remaining == 59


def test_a_call_still_throttled_after_the_budget_asks_to_retry_later_and_counts_nothing(services, tenant, partner):
    limit = RateLimit(tenant, partner, 60, 60)
    with Faults() as faults:
        faults.throttle("UpdateItem")
        with pytest.raises(RetryLater):
            limit.take(NOW)
    assert limit.take(NOW).remaining == 59
