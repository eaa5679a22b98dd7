"""Scheduled jobs at a brand's scale: members per second through the release and the inactivity job over a
due index of 6,000 members, against a raw boto3 loop of as many single-item conditional writes run in
the same process, and what that makes of 100,000 members.

    .venv/bin/python -m bench.jobs_throughput [--members 6000] [--page-size 100] [--slice-seconds 10]

The due items are seeded with BatchWriteItem (a few threads) in the shapes OrderBook and MemberLedger write
(profile and pending order for a release; profile and one lot for an inactivity expiry), not one
transaction per member. Each job then works the whole index as scheduled runs do, in runs of a
`--slice-seconds` budget that each continue from the last one's cursor; after each run the baseline makes
as many single-item conditional writes as the run settled members, so job and baseline share the
machine's load and the ratio holds even when the absolute figures drift.
"""
from __future__ import annotations

import argparse
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from datetime import datetime, timedelta, timezone
from typing import Any, Iterable

from bench.common import DynamoCallCounter, create_table, dynamodb_local, machine, raw_client, unique_table_name
from domain.points.program import DEFAULT_PROGRAM, ExpiryMode
from infra import keys
from infra.ids import new_ulid
from infra.items import MemberProfile, TableItem, bind_table
from infra.jobs_state import Budget
from infra.points.items import OrderRecord, PointLot
from infra.points.jobs import PointsJobs
from infra.points.ledger import NEVER
from infra.points.program_store import ProgramCache, ProgramStore

TENANT = "bench"  # the release job's tenant, "N months after earning"
# The inactivity job's, "after inactivity": a tenant of its own, so the released members (whose points came
# without an activity) are not due there too and each job works through exactly its own members.
IDLE_TENANT = "bench-idle"
REGION = "us-east-1"
POINTS = 100
LAMBDA_TIMEOUT_SECONDS = 900
RESERVE_SECONDS = 120  # api/jobs.py keeps this much of an invocation back


# -- seeding ------------------------------------------------------------------------------------------
def _profile(tenant: str, member_id: str, at: datetime, **balances: Any) -> MemberProfile:
    iso = at.isoformat()
    return MemberProfile(keys.member_pk(tenant, member_id), keys.PROFILE, member_id=member_id, name="Bench",
                         email=f"{member_id}@example.com", referral_code=member_id.upper()[:12], joined_at=iso,
                         updated_at=iso, last_activity_at=iso, **balances)


def pending_order_items(tenant: str, member_id: str, ordered_at: datetime, release_at: datetime) -> list[TableItem]:
    """A member whose one order's points are pending and due for release at `release_at`."""
    pk = keys.member_pk(tenant, member_id)
    order_id = str(uuid.uuid4().int)[:19]
    # The pending entry itself is left out: releasing it is one unconditioned update either way.
    entry = f"{keys.LEDGER_PREFIX}{new_ulid(int(ordered_at.timestamp() * 1000))}"
    order = OrderRecord(pk, keys.order_sk(order_id), order_id=order_id, member_id=member_id,
                        ordered_at=ordered_at.isoformat(), currency="JPY", lines=[], points=POINTS,
                        pending_points=POINTS, status="PENDING", release_at=release_at.isoformat(), earn_entry=entry,
                        GSI2PK=keys.due_pk(tenant, "RELEASE"),
                        GSI2SK=f"{release_at.isoformat()}#{member_id}#{order_id}")
    return [_profile(tenant, member_id, ordered_at, pending=POINTS, lifetime=POINTS), order]


def inactive_member_items(tenant: str, member_id: str, active_at: datetime, idle_at: datetime) -> list[TableItem]:
    """A member with one lot of points, last active at `active_at`, due for inactivity expiry at `idle_at`."""
    pk = keys.member_pk(tenant, member_id)
    lot_id = new_ulid(int(active_at.timestamp() * 1000))
    profile = _profile(tenant, member_id, active_at, available=POINTS, lifetime=POINTS,
                       GSI2PK=keys.due_pk(tenant, "INACTIVE"), GSI2SK=f"{idle_at.isoformat()}#{member_id}")
    lot = PointLot(pk, f"{keys.LOT_PREFIX}{NEVER}#{lot_id}", member_id=member_id, points=POINTS,
                   earned_at=active_at.isoformat())
    return [profile, lot]  # the earning entry sorts outside what the job reads: left out


def batch_put(client: Any, table: str, items: Iterable[TableItem], threads: int = 4) -> int:
    """BatchWriteItem, 25 items a call from a few threads, until nothing is left unprocessed."""
    def send(requests: list[dict]) -> int:
        count = len(requests)
        while requests:
            left = client.batch_write_item(RequestItems={table: requests}).get("UnprocessedItems", {})
            requests = left.get(table, [])
        return count

    def chunks() -> Iterable[list[dict]]:
        chunk: list[dict] = []
        for item in items:
            chunk.append({"PutRequest": {"Item": item.serialize()}})
            if len(chunk) == 25:
                yield chunk
                chunk = []
        if chunk:
            yield chunk

    with ThreadPoolExecutor(threads) as pool:
        return sum(pool.map(send, chunks()))


# -- the baseline ---------------------------------------------------------------------------------------
def conditional_writes(client: Any, table: str, n: int) -> float:
    """n single-item conditional writes (PutItem of a new item, `attribute_not_exists(PK)`), one after another."""
    run = uuid.uuid4().hex[:8]
    t = time.perf_counter()
    for i in range(n):
        client.put_item(TableName=table, Item={"PK": {"S": f"T#{TENANT}#BASELINE#{run}#{i}"}, "SK": {"S": "X"},
                                               "v": {"N": "1"}},
                        ConditionExpression="attribute_not_exists(PK)")
    return time.perf_counter() - t


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser()
    # 6,000 per job keeps CI under 20 minutes; a run is linear in members (one at a time), so the
    # figure for 100,000 extrapolates the same way from any size above a few pages.
    parser.add_argument("--members", type=int, default=6_000)
    parser.add_argument("--page-size", type=int, default=100)
    parser.add_argument("--slice-seconds", type=float, default=10.0, help="budget of each run of a job")
    args = parser.parse_args(argv)
    n = args.members

    with dynamodb_local() as local:
        table = unique_table_name()
        client = bind_table(table, region=REGION, host=local.endpoint)
        create_table(client, table)
        raw = raw_client(local.endpoint)
        t0 = datetime(2026, 1, 5, tzinfo=timezone.utc)
        run_at = t0 + timedelta(days=90)
        stores = {TENANT: ProgramStore(TENANT, ProgramCache(3600)),
                  IDLE_TENANT: ProgramStore(IDLE_TENANT, ProgramCache(3600))}
        stores[TENANT].save_program(DEFAULT_PROGRAM, "bench", t0)
        stores[IDLE_TENANT].save_program(
            replace(DEFAULT_PROGRAM, expiry_mode=ExpiryMode.AFTER_INACTIVITY, expiry_months=2), "bench", t0)

        t = time.perf_counter()
        seeded = batch_put(raw, table, (item for i in range(n) for item in pending_order_items(
            TENANT, f"r-{i:06d}", t0, t0 + timedelta(days=30, seconds=i))))
        seeded += batch_put(raw, table, (item for i in range(n) for item in inactive_member_items(
            IDLE_TENANT, f"i-{i:06d}", t0, t0 + timedelta(days=60, seconds=i))))
        seeding = time.perf_counter() - t
        print(f"seeded {seeded:,} items ({n:,} due orders, {n:,} due members) in {seeding:.1f} s; {machine()}")

        counter = DynamoCallCounter(client)
        results = {}
        for name, tenant, job in (("release", TENANT, PointsJobs.release_due),
                                  ("inactivity", IDLE_TENANT, PointsJobs.expire_inactive)):
            counter.reset()
            seconds = baseline = 0.0
            done = runs = 0
            while True:  # one scheduled run after another, each continuing from the last one's cursor
                jobs = PointsJobs(tenant, stores[tenant], budget=Budget.seconds(args.slice_seconds), page_size=args.page_size)
                t = time.perf_counter()
                report = job(jobs, run_at)
                seconds += time.perf_counter() - t
                calls = counter.count
                baseline += conditional_writes(raw, table, report.processed)
                counter.calls = counter.calls[:calls]  # the baseline's calls are not the job's
                assert report.ok, report
                done, runs = done + report.processed, runs + 1
                if report.complete:
                    break
            assert done == n, (name, done)
            results[name] = (seconds, baseline, counter.count, runs)
        counter.close()

    budget = LAMBDA_TIMEOUT_SECONDS - RESERVE_SECONDS
    print(f"\n{'job':<11} {'members/s':>10} {'seconds':>8} {'runs':>5} {'calls/member':>13} {'baseline/s':>11} "
          f"{'vs baseline':>12} {'100,000 (extrapolated)':>23} {'Lambda runs':>12}")
    for name, (seconds, baseline, calls, runs) in results.items():
        rate = n / seconds
        at_scale = 100_000 / rate
        print(f"{name:<11} {rate:>10,.0f} {seconds:>8.1f} {runs:>5} {calls / n:>13.2f} {n / baseline:>11,.0f} "
              f"{seconds / baseline:>11.2f}x {at_scale / 60:>18.1f} min {-(-int(at_scale) // budget):>12}")
    print(f"(vs baseline: the job's time over as many single-item conditional PutItem calls, run after each of its "
          f"runs;\n Lambda runs: invocations of {budget} s of work, a {LAMBDA_TIMEOUT_SECONDS} s timeout less the "
          f"{RESERVE_SECONDS} s reserve; one member at a time, so time grows linearly with members)")


if __name__ == "__main__":
    main()
