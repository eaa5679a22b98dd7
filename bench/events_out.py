"""Events out: processor throughput, events per second from DynamoDB Local's stream to a webhook receiver on
127.0.0.1 (2xx), against a raw loop over the same stream records in the same process (GetRecords, then one
unsigned POST of each record's keys to the same receiver); DynamoDB calls per event counted.

    .venv/bin/python -m bench.events_out [--events 1000] [--members 50] [--endpoints 1]

Outbox items are written as the changes write them (one per event, spread over `--members` member
partitions), then each pass reads the table's stream from its start: the baseline, the processor with the
events-out listener alone (publication with its sequence number, the member block, one Query of the
endpoints, each delivery written, signed, sent and recorded), and the baseline again; the ratio is the
processor's time over the two baselines' mean. One receiver thread answers 204 to everything.
"""
from __future__ import annotations

import argparse
import http.client
import json
import time
from collections import Counter
from datetime import datetime, timezone
from typing import Any

from bench.common import DynamoCallCounter, create_table, dynamodb_local, machine, unique_table_name

TENANT = "bench"
REGION = "us-east-1"


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--events", type=int, default=1000)
    parser.add_argument("--members", type=int, default=50)
    parser.add_argument("--endpoints", type=int, default=1)
    args = parser.parse_args(argv)

    from infra import keys
    from infra.events.processor import Processor, env_factory
    from infra.events.stream import Outcome, StreamReader
    from infra.events_out.endpoints import Endpoints, WebhookEndpointItem
    from infra.events_out.listener import EventsOut
    from infra.events_out.outlet import Outlet
    from infra.items import bind_table
    from infra.members import outbox_event
    from infra.points.program_store import ProgramCache
    from tests.webhook_receiver import Receiver, loopback_resolver

    receiver = Receiver()
    with dynamodb_local() as local:
        table = unique_table_name("bench-out")
        client = bind_table(table, region=REGION, host=local.endpoint)
        create_table(client, table)
        now = datetime.now(timezone.utc)
        for _ in range(args.endpoints):
            item, _secret = Endpoints(TENANT).new_item(receiver.url(), ("*",), True, None, now)
            item.save(WebhookEndpointItem.PK.does_not_exist())
        started = time.perf_counter()
        for i in range(args.events):
            member = f"m-{i % args.members:04d}"
            outbox_event(TENANT, keys.member_pk(TENANT, member), "points.earned", {"points": 10 + i},
                         now.isoformat(), int(now.timestamp())).save()
        print(f"wrote {args.events:,} outbox items over {args.members} members in {time.perf_counter() - started:.1f} s; "
              f"{args.endpoints} endpoint(s); {machine()}")

        def reader() -> StreamReader:
            return StreamReader.for_table(table, region=REGION, endpoint=local.endpoint, start="TRIM_HORIZON")

        def baseline() -> float:
            posted = 0

            def handle(records: list[dict[str, Any]]) -> Outcome:
                nonlocal posted
                for r in records:
                    keys_ = r["dynamodb"]["Keys"]
                    if not keys_["SK"]["S"].startswith(keys.OUTBOX_PREFIX):
                        continue
                    body = json.dumps(keys_).encode()
                    for _ in range(args.endpoints):
                        conn = http.client.HTTPConnection("127.0.0.1", receiver.port, timeout=5)
                        conn.request("POST", "/hooks", body, {"content-type": "application/json"})
                        conn.getresponse().read()
                        conn.close()
                        posted += 1
                return Outcome(done=len(records))

            raw = Processor(lambda: None, [], reader=reader())  # type: ignore[arg-type, return-value]
            raw.handle = handle  # type: ignore[method-assign]
            t0 = time.perf_counter()
            raw.drain(timeout=600)
            seconds = time.perf_counter() - t0
            assert posted == args.events * args.endpoints, posted
            return seconds

        before = len(receiver.requests)
        first = baseline()
        counter = DynamoCallCounter(client)
        outlet = Outlet(allow_loopback=True, resolve=loopback_resolver([]))
        ours = Processor(env_factory(ProgramCache(30.0), outlet=outlet), [EventsOut()], reader=reader())
        receiver.requests.clear()
        t0 = time.perf_counter()
        dispatched = ours.drain(timeout=1200)
        processor_seconds = time.perf_counter() - t0
        calls = Counter(counter.calls)
        counter.close()
        delivered = len(receiver.requests)
        second = baseline()
        assert dispatched == args.events and delivered == args.events * args.endpoints, (dispatched, delivered, before)

    receiver.close()
    base = (first + second) / 2
    per_event = sum(calls.values()) / args.events
    print(f"\n{'path':<34} {'events/s':>9} {'seconds':>8}")
    print(f"{'processor -> signed webhook':<34} {args.events / processor_seconds:>9,.0f} {processor_seconds:>8.2f}")
    print(f"{'raw GetRecords -> POST (baseline)':<34} {args.events / base:>9,.0f} {base:>8.2f}  "
          f"(runs: {first:.2f} s, {second:.2f} s)")
    print(f"ratio processor/baseline: {processor_seconds / base:.2f}x")
    print(f"DynamoDB calls per event: {per_event:.2f} ("
          + ", ".join(f"{op} {n / args.events:.2f}" for op, n in sorted(calls.items())) + ")")
    print("(the stream's own GetRecords/GetShardIterator go through the streams client and are not counted)")


if __name__ == "__main__":
    main()
