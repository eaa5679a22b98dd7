"""Features hear about changes through the table's stream: outbox events written by real changes reach the
listeners of their type, once, per tenant, quickly, and survive a processor killed mid-batch.

DynamoDB Local's stream, real threads and a real subprocess; the only injected fault is a listener that
raises (docs/design.md, "How features hear about changes").
"""
from __future__ import annotations

import json
import logging
import os
import signal
import statistics
import subprocess
import sys
import threading
import time
import uuid
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import boto3
import pytest

from api.stream_handler import make_handler
from domain.members import Enrollment
from infra import keys
from infra.events.processor import Processor, env_factory, to_event
from infra.events.stream import Outcome, StreamReader
from infra.members import Members, outbox_event
from infra.points.adjustments import Adjustments
from infra.points.program_store import ProgramStore
from infra.table import create_table
from tests.events_support import KILL_LISTENER, CountingListener, effect_prefix, effects, lambda_event
from tests.support import new_tenant

ROOT = Path(__file__).resolve().parents[2]
ADJUSTED = frozenset({"points.adjusted"})


class Shop:
    """One tenant with members whose points change the way staff change them (Adjustments)."""

    def __init__(self, services: Any):
        self.services = services
        self.tenant = new_tenant()
        self.staff = Adjustments(self.tenant, ProgramStore(self.tenant, services.programs))

    def member(self) -> str:
        member_id = f"m-{uuid.uuid4().hex[:10]}"
        now = datetime.now(timezone.utc)
        Members(self.tenant).enroll(member_id, Enrollment("Aiko", f"{member_id}@example.com", None, False),
                                    now.isoformat(), int(now.timestamp()))
        return member_id

    def adjust(self, member_id: str, points: int = 10) -> None:
        self.staff.adjust(member_id, points, "goodwill", "staff:test", datetime.now(timezone.utc))

    def pk(self, member_id: str) -> str:
        return keys.member_pk(self.tenant, member_id)


@pytest.fixture
def shop(services: Any) -> Shop:
    return Shop(services)


@pytest.fixture
def at_tip(services: Any, stream_of_table: tuple[Any, str]):
    """A processor for the given listeners, reading the session table's stream from its tip."""
    client, arn = stream_of_table

    def make(*listeners: CountingListener) -> Processor:
        return Processor(env_factory(services.programs), list(listeners),
                         reader=StreamReader(client, arn, start="LATEST"))
    return make


def test_an_outbox_event_written_by_a_points_change_reaches_its_listener_once(shop, at_tip):
    listener = CountingListener("reach-once", ADJUSTED, frozenset({shop.tenant}))
    processor = at_tip(listener)
    member = shop.member()
    shop.adjust(member, 25)

    assert processor.drain() == 1
    [event] = listener.calls
    assert (event.tenant, event.member_id, event.type) == (shop.tenant, member, "points.adjusted")
    assert event.detail["points"] == 25 and event.detail["memberId"] == member
    assert event.occurred_at.tzinfo is not None and len(event.event_id) == 26  # the outbox item's ULID
    assert len(effects(shop.pk(member), listener.name)) == 1
    assert processor.drain() == 0 and len(listener.calls) == 1  # nothing comes twice


def test_only_the_listeners_of_an_events_type_are_called(shop, at_tip):
    tenants = frozenset({shop.tenant})
    adjusted = CountingListener("type-adjusted", ADJUSTED, tenants)
    enrolled = CountingListener("type-enrolled", frozenset({"member.enrolled"}), tenants)
    redeemed = CountingListener("type-redeemed", frozenset({"points.redeemed"}), tenants)
    processor = at_tip(adjusted, enrolled, redeemed)
    member = shop.member()
    shop.adjust(member)

    processor.drain()
    assert [e.type for e in adjusted.calls] == ["points.adjusted"]
    assert [e.type for e in enrolled.calls] == ["member.enrolled"]
    assert redeemed.calls == []


def test_a_listener_that_fails_is_retried_and_its_effect_applied_once(shop, at_tip, caplog):
    tenants = frozenset({shop.tenant})
    flaky = CountingListener("flaky", ADJUSTED, tenants, fail_after_commit=2)
    steady = CountingListener("steady", ADJUSTED, tenants)
    processor = at_tip(flaky, steady)
    member = shop.member()
    shop.adjust(member)

    with caplog.at_level(logging.ERROR, logger="kizuna.events"):
        assert processor.drain() == 1
    assert len(flaky.calls) == 3 and (flaky.applied, flaky.skipped) == (1, 2)
    assert len(steady.calls) == 3 and (steady.applied, steady.skipped) == (1, 2)  # retried with it: no double
    assert len(effects(shop.pk(member), "flaky")) == 1
    assert len(effects(shop.pk(member), "steady")) == 1
    failures = [r.getMessage() for r in caplog.records if r.name == "kizuna.events" and r.levelno == logging.ERROR]
    event_id = flaky.calls[0].event_id
    assert len(failures) == 2 and all("flaky" in m and event_id in m and "points.adjusted" in m for m in failures)
    assert not any("@" in m for m in failures)


def _records_since(reader: StreamReader) -> list[dict[str, Any]]:
    """Every record the stream has after the reader's position, as GetRecords returned them."""
    seen: list[dict[str, Any]] = []

    def keep(records: list[dict[str, Any]]) -> Outcome:
        seen.extend(records)
        return Outcome(done=len(records))

    while not reader.poll(keep).quiet:
        pass
    return seen


def test_replaying_the_same_records_twice_doubles_nothing(shop, services, stream_of_table):
    client, arn = stream_of_table
    reader = StreamReader(client, arn, start="LATEST")
    member = shop.member()
    for points in (5, 7, 9):
        shop.adjust(member, points)
    records = _records_since(reader)
    listener = CountingListener("replay", ADJUSTED, frozenset({shop.tenant}))
    processor = Processor(env_factory(services.programs), [listener])

    assert processor.handle_records(records) == []
    assert processor.handle_records(records) == []
    assert len(listener.calls) == 6 and (listener.applied, listener.skipped) == (3, 3)
    applied = effects(shop.pk(member), "replay")
    assert len(applied) == 3 and len({e.event_id for e in applied}) == 3


def test_events_of_each_tenant_reach_listeners_as_their_own_tenants(services, at_tip):
    first, second = Shop(services), Shop(services)
    listener = CountingListener("tenancy", ADJUSTED, frozenset({first.tenant, second.tenant}))
    processor = at_tip(listener)
    a, b = first.member(), second.member()
    first.adjust(a, 3)
    second.adjust(b, 4)

    assert processor.drain() == 2
    assert sorted((e.tenant, e.member_id, e.detail["points"]) for e in listener.calls) == sorted(
        [(first.tenant, a, 3), (second.tenant, b, 4)])
    assert len(effects(first.pk(a), "tenancy")) == 1 and len(effects(second.pk(b), "tenancy")) == 1
    assert effects(keys.member_pk(first.tenant, b), "tenancy") == []  # nothing of b's under the first tenant


def test_records_that_are_not_outbox_inserts_are_passed_over(shop, services):
    member = shop.member()
    pk, sk = shop.pk(member), f"{keys.OUTBOX_PREFIX}01JAAAAAAAAAAAAAAAAAAAAAAA"
    image = {"PK": {"S": pk}, "SK": {"S": sk}, "kind": {"S": "event"}, "tenant": {"S": shop.tenant},
             "eventType": {"S": "points.adjusted"}, "occurredAt": {"S": "2026-03-01T00:00:00+00:00"},
             "detail": {"S": "{}"}}

    def record(name: str, new_image: Any, seq: str) -> dict[str, Any]:
        return {"eventName": name, "dynamodb": {"SequenceNumber": seq, "NewImage": new_image}}

    odd = [record("REMOVE", image, "1"), record("MODIFY", image, "2"), record("INSERT", None, "3"),
           record("INSERT", {**image, "kind": {"S": "ledger"}}, "4"),
           record("INSERT", {**image, "SK": {"S": "TX#1"}}, "5"),
           record("INSERT", {**image, "tenant": {"S": "Not A Tenant"}}, "6"),
           record("INSERT", {**image, "tenant": {"S": new_tenant()}}, "7"),  # not the partition's tenant
           record("INSERT", {**image, "detail": {"S": "[1, 2]"}}, "8"),
           record("INSERT", {**image, "occurredAt": {"S": "yesterday"}}, "9"),
           {"eventName": "INSERT", "dynamodb": "not a change"}, {"unexpected": True}, "not a record"]
    listener = CountingListener("odd", ADJUSTED)
    assert [to_event(r) for r in odd] == [None] * len(odd)  # type: ignore[arg-type]
    assert Processor(env_factory(services.programs), [listener]).handle_records(odd) == []
    assert listener.calls == []
    assert to_event(record("INSERT", image, "10")) is not None  # the same record as an INSERT is an event


def test_the_stream_handler_answers_the_first_failed_record_and_the_retry_applies_the_rest_once(
        shop, services, stream_of_table):
    client, arn = stream_of_table
    reader = StreamReader(client, arn, start="LATEST")
    member = shop.member()
    for points in (1, 2, 3):
        shop.adjust(member, points)
    event = lambda_event(_records_since(reader), arn)
    adjusted = [r for r in event["Records"] if (e := to_event(r)) and e.type == "points.adjusted"]
    assert len(adjusted) == 3

    faults = [1]

    class FailsOnTwo(CountingListener):
        def handle(self, e: Any, env: Any) -> None:
            if e.detail["points"] == 2 and faults[0]:
                faults[0] -= 1
                raise RuntimeError("injected listener fault")
            super().handle(e, env)

    listener = FailsOnTwo("lambda", ADJUSTED, frozenset({shop.tenant}))
    processor = Processor(env_factory(services.programs), [listener])
    handler = make_handler(lambda: processor)
    failed = adjusted[1]["dynamodb"]["SequenceNumber"]

    assert handler(event, None) == {"batchItemFailures": [{"itemIdentifier": failed}]}
    assert [e.detail["points"] for e in listener.calls] == [1]  # nothing after the failed record ran

    # Lambda retries from the failed record on (ReportBatchItemFailures), and once more for good measure.
    at = next(i for i, r in enumerate(event["Records"]) if r["dynamodb"]["SequenceNumber"] == failed)
    retry = {"Records": event["Records"][at:]}
    assert handler(retry, None) == {"batchItemFailures": []}
    assert handler(retry, None) == {"batchItemFailures": []}
    applied = effects(shop.pk(member), "lambda")
    assert len(applied) == 3 and len({e.event_id for e in applied}) == 3


def test_a_change_reaches_a_listener_within_two_seconds_while_the_processor_polls(shop, at_tip):
    member = shop.member()
    listener = CountingListener("latency", ADJUSTED, frozenset({shop.tenant}))
    processor = at_tip(listener)
    stop = threading.Event()
    thread = threading.Thread(target=processor.run_forever, args=(stop, 0.2), daemon=True)
    thread.start()
    latencies = []
    try:
        for _ in range(5):
            listener.seen.clear()
            started = time.monotonic()  # from the start of the write: its commit is part of the wait
            shop.adjust(member)
            assert listener.seen.wait(5), "the change never reached the listener"
            latencies.append(time.monotonic() - started)
            time.sleep(0.1)  # the next change lands anywhere in the poll interval
    finally:
        stop.set()
        thread.join(5)
    assert not thread.is_alive()
    print(f"\nchange -> listener latency with 0.2 s polling: median {statistics.median(latencies) * 1000:.0f} ms, "
          f"max {max(latencies) * 1000:.0f} ms over {len(latencies)} changes")
    assert max(latencies) < 2.0


def test_the_events_fixture_sees_only_what_the_test_writes(shop, events, services):
    member = shop.member()
    shop.adjust(member)
    listener = CountingListener("fixture", ADJUSTED)  # every tenant: only this test's change may come
    assert Processor(events.env_factory, [listener], reader=events.reader).drain() == 1
    assert [(e.tenant, e.member_id) for e in listener.calls] == [(shop.tenant, member)]
    assert events.drain() == 0  # the registered listeners: nothing left


# --- killed mid-batch --------------------------------------------------------------------------

def _runner(endpoint: str, table: str, consumer: str, *extra: str) -> list[str]:
    return [sys.executable, "-m", "tests.events_support", "--endpoint", endpoint, "--table", table,
            "--consumer", consumer, *extra]


def test_a_processor_killed_mid_batch_and_restarted_loses_nothing_and_doubles_nothing(dynamodb_endpoint, services):
    # A table of its own: the runner reads its stream from the start, which holds only this test's writes.
    table = f"kizuna-kill-{uuid.uuid4().hex[:8]}"
    ddb = boto3.client("dynamodb", endpoint_url=dynamodb_endpoint, region_name="us-east-1",
                       aws_access_key_id="local", aws_secret_access_key="local")
    create_table(ddb, table)
    tenant, consumer = new_tenant(), "kill-test"
    members = [f"m-{i}" for i in range(5)]
    now = datetime.now(timezone.utc)

    def write(n: int) -> list[str]:
        """n outbox events as the points code writes them (infra.members.outbox_event), round robin."""
        ids = []
        for i in range(n):
            item = outbox_event(tenant, keys.member_pk(tenant, members[i % 5]), "points.adjusted",
                                {"memberId": members[i % 5], "points": i}, now.isoformat(), int(now.timestamp()))
            ddb.put_item(TableName=table, Item=item.serialize())
            ids.append(item.SK[len(keys.OUTBOX_PREFIX):])
        return ids

    def applied() -> dict[str, int]:
        """Effect items per event id, across the members' partitions."""
        counts: dict[str, int] = {}
        for m in members:
            pages = ddb.get_paginator("query").paginate(
                TableName=table, KeyConditionExpression="PK = :pk AND begins_with(SK, :fx)", ConsistentRead=True,
                ExpressionAttributeValues={":pk": {"S": keys.member_pk(tenant, m)},
                                           ":fx": {"S": effect_prefix(KILL_LISTENER)}})
            for page in pages:
                for item in page["Items"]:
                    counts[item["eventId"]["S"]] = counts.get(item["eventId"]["S"], 0) + 1
        return counts

    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    events = write(30)  # one batch: the kill lands inside it, before any checkpoint
    runner = subprocess.Popen(_runner(dynamodb_endpoint, table, consumer, "--sleep", "0.05"), cwd=ROOT, env=env,
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        assert runner.stdout is not None and runner.stdout.readline().strip() == "ready"
        deadline = time.monotonic() + 20
        while len(applied()) < 8:
            assert runner.poll() is None and time.monotonic() < deadline, runner.stderr and runner.stderr.read()
            time.sleep(0.02)
        runner.send_signal(signal.SIGKILL)
        runner.wait(10)
    finally:
        if runner.poll() is None:
            runner.kill()
            runner.wait()
        if runner.stdout:
            runner.stdout.close()
        if runner.stderr:
            runner.stderr.close()
    before = applied()
    assert 8 <= len(before) < 30, "the kill was meant to land mid-batch"
    events += write(5)  # written while no processor runs

    restart = subprocess.run(_runner(dynamodb_endpoint, table, consumer, "--drain"), cwd=ROOT, env=env,
                             capture_output=True, text=True, timeout=60)
    assert restart.returncode == 0, restart.stderr[-3000:]
    report = json.loads(restart.stdout.strip().splitlines()[-1])
    after = applied()
    print(f"\nkilled after {len(before)} of 30 effects; the restart dispatched {report['dispatched']} events, "
          f"applied {report['applied']}, recognised {report['skipped']} as applied before the kill")
    assert after == {e: 1 for e in events}  # every event's effect, each exactly once
    assert report["applied"] == 35 - len(before) and report["skipped"] >= len(before)

    again = subprocess.run(_runner(dynamodb_endpoint, table, consumer, "--drain"), cwd=ROOT, env=env,
                           capture_output=True, text=True, timeout=60)
    assert again.returncode == 0, again.stderr[-3000:]
    assert json.loads(again.stdout.strip().splitlines()[-1])["dispatched"] == 0  # resumed after its checkpoint
    assert applied() == after
    ddb.delete_table(TableName=table)


# --- shard lineage -------------------------------------------------------------------------------

class SplitStream:
    """A stream whose shard was split (parent closed, two children open): DynamoDB Local keeps one shard,
    so this condition it cannot produce is played by a stand-in that answers the same three calls."""

    class exceptions:
        class TrimmedDataAccessException(Exception):
            pass

        class ExpiredIteratorException(Exception):
            pass

    def __init__(self, shards: dict[str, tuple[str | None, bool, list[str]]]):
        self.shards = shards  # id -> (parent, closed, sequence numbers)
        self.reads: list[str] = []

    def describe_stream(self, StreamArn: str, **_: Any) -> dict[str, Any]:
        listed = []
        for shard_id, (parent, closed, seqs) in self.shards.items():
            rng = {"StartingSequenceNumber": seqs[0] if seqs else "0"}
            if closed:
                rng["EndingSequenceNumber"] = seqs[-1]
            listed.append({"ShardId": shard_id, "SequenceNumberRange": rng,
                           **({"ParentShardId": parent} if parent else {})})
        return {"StreamDescription": {"Shards": listed}}

    def get_shard_iterator(self, StreamArn: str, ShardId: str, ShardIteratorType: str,
                           SequenceNumber: str | None = None) -> dict[str, Any]:
        seqs = self.shards[ShardId][2]
        at = {"TRIM_HORIZON": 0, "LATEST": len(seqs)}.get(ShardIteratorType)
        if at is None:
            at = seqs.index(SequenceNumber) + (1 if ShardIteratorType == "AFTER_SEQUENCE_NUMBER" else 0)
        return {"ShardIterator": f"{ShardId}@{at}"}

    def get_records(self, ShardIterator: str, Limit: int) -> dict[str, Any]:
        shard_id, at = ShardIterator.split("@")
        self.reads.append(shard_id)
        _parent, closed, seqs = self.shards[shard_id]
        batch = seqs[int(at):int(at) + 2]  # small pages: a closed shard takes several reads
        end = int(at) + len(batch)
        following = None if closed and end >= len(seqs) else f"{shard_id}@{end}"
        return {"Records": [{"eventName": "MODIFY", "dynamodb": {"SequenceNumber": s}} for s in batch],
                "NextShardIterator": following}


def test_children_are_read_only_after_their_parent_shard_was_read_to_its_end():
    stream = SplitStream({"child-a": ("parent", False, ["5", "7"]), "child-b": ("parent", False, ["6"]),
                          "parent": ("grandparent-trimmed", True, ["1", "2", "3", "4"])})
    handled: list[str] = []

    def keep(records: list[dict[str, Any]]) -> Outcome:
        handled.extend(r["dynamodb"]["SequenceNumber"] for r in records)
        return Outcome(done=len(records))

    reader = StreamReader(stream, "arn:stream")
    while not reader.poll(keep).quiet:
        pass
    assert handled[:4] == ["1", "2", "3", "4"] and sorted(handled[4:]) == ["5", "6", "7"]
    first_child_read = min(stream.reads.index("child-a"), stream.reads.index("child-b"))
    assert set(stream.reads[:first_child_read]) == {"parent"}  # the parent, to its end, first
    assert reader.shards["parent"].finished and not reader.shards["child-a"].finished


def test_a_failed_record_is_read_again_from_itself_and_nothing_after_it_is_passed():
    stream = SplitStream({"only": (None, False, ["1", "2", "3"])})
    handled: list[str] = []
    faults = ["2"]

    def flaky(records: list[dict[str, Any]]) -> Outcome:
        for i, r in enumerate(records):
            seq = r["dynamodb"]["SequenceNumber"]
            if seq in faults:
                faults.remove(seq)
                return Outcome(done=i, failed=seq)
            handled.append(seq)
        return Outcome(done=len(records))

    now = [0.0]
    reader = StreamReader(stream, "arn:stream", clock=lambda: now[0])
    reader.poll(flaky)
    assert handled == ["1"] and reader.shards["only"].retry_from == "2"
    assert reader.poll(flaky).waiting is not None and handled == ["1"]  # backing off
    now[0] += 1.0
    while not reader.poll(flaky).quiet:
        pass
    assert handled == ["1", "2", "3"]


def test_registering_a_listener_again_on_re_import_replaces_it_and_a_second_listener_of_that_name_is_refused():
    from infra.events import model
    from infra.events.listeners import register_all

    kind = "test.registration"  # no change writes it: leaving these registered affects nothing
    first = model.register(CountingListener("registration", frozenset({kind})))
    again = model.register(CountingListener("registration", frozenset({kind})))  # the module, imported again
    assert model.listeners_for(kind) == [again] and first is not again

    class Other(CountingListener):
        pass

    with pytest.raises(ValueError):
        model.register(Other("registration", frozenset({kind})))
    register_all()
    before = model.registered()
    register_all()  # each container, `make run` and every `events` fixture call it
    assert model.registered() == before
