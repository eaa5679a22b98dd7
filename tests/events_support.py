"""Test listeners for the event processor, and a local runner to kill (`python -m tests.events_support`).

A CountingListener applies one effect per event with `once()`: in the same transaction as the effect
mark it puts an item with a fresh id, so an effect applied twice would show as two items.
"""
from __future__ import annotations

import argparse
import json
import signal
import sys
import threading
import time
from dataclasses import dataclass, field
from typing import Any

from pynamodb.attributes import UnicodeAttribute

from infra.events.model import Env, Event, once
from infra.ids import new_ulid
from infra.items.base import TableItem, read_partition
from infra.transaction import Transaction, TransactionCancelled

EFFECT_PREFIX = "~TESTFX#"  # after ~OUT#: outside the dashboard range


class TestEffect(TableItem, discriminator="test-effect"):
    __test__ = False  # not a test class
    listener = UnicodeAttribute()
    event_id = UnicodeAttribute(attr_name="eventId")


def effect_prefix(listener: str) -> str:
    return f"{EFFECT_PREFIX}{listener}#"


def effects(member_pk: str, listener: str) -> list[TestEffect]:
    """The effect items `listener` wrote in a member's partition (one per application)."""
    return [i for i in read_partition(member_pk, TableItem.SK.startswith(effect_prefix(listener)))
            if isinstance(i, TestEffect)]


@dataclass
class CountingListener:
    name: str
    event_types: frozenset[str]
    tenants: frozenset[str] | None = None  # events of other tenants are none of its business
    sleep: float = 0.0
    fail_after_commit: int = 0  # raise this many times, each after the effect committed
    calls: list[Event] = field(default_factory=list)
    applied: int = 0
    skipped: int = 0
    seen: threading.Event = field(default_factory=threading.Event)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def handle(self, event: Event, env: Env) -> None:
        if self.tenants is not None and event.tenant not in self.tenants:
            return
        with self.lock:
            self.calls.append(event)
        self.seen.set()
        if self.sleep:
            time.sleep(self.sleep)
        tx = Transaction()
        once(tx, event, self.name, env.now_epoch)
        tx.put("effect", TestEffect(event.member_pk, f"{effect_prefix(self.name)}{event.event_id}#{new_ulid()}",
                                    listener=self.name, event_id=event.event_id))
        try:
            tx.commit()
            self.applied += 1
        except TransactionCancelled as c:
            if not c.failed_on("once"):
                raise
            self.skipped += 1  # applied before: this is a repeat
        if self.fail_after_commit > 0:
            self.fail_after_commit -= 1
            raise RuntimeError("injected listener fault")


KILL_LISTENER = "kill-test"


def main(argv: list[str] | None = None) -> None:
    """Run the processor on a table's stream with a slow counting listener, resuming from the consumer's
    checkpoints: until killed, or with --drain until the stream is worked off (then print counts)."""
    from infra.events.processor import local_processor
    from infra.items import bind_table
    from infra.points.program_store import ProgramCache

    parser = argparse.ArgumentParser()
    parser.add_argument("--endpoint", required=True)
    parser.add_argument("--table", required=True)
    parser.add_argument("--consumer", required=True)
    parser.add_argument("--sleep", type=float, default=0.0)
    parser.add_argument("--drain", action="store_true")
    args = parser.parse_args(argv)
    bind_table(args.table, region="us-east-1", host=args.endpoint)
    listener = CountingListener(KILL_LISTENER, frozenset({"points.adjusted"}), sleep=args.sleep)
    processor = local_processor(args.table, region="us-east-1", endpoint=args.endpoint, programs=ProgramCache(30),
                                consumer=args.consumer, listeners=[listener])
    if args.drain:
        dispatched = processor.drain(timeout=30)
        print(json.dumps({"dispatched": dispatched, "applied": listener.applied, "skipped": listener.skipped}),
              flush=True)
        return
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    print("ready", flush=True)
    processor.run_forever(stop, poll_seconds=0.05)



def lambda_event(records: list[dict[str, Any]], stream_arn: str) -> dict[str, Any]:
    """Stream records as the event source mapping delivers them to a Lambda (GetRecords' shape plus the
    source ARN, and the creation time as epoch seconds)."""
    shaped = []
    for r in records:
        d = dict(r["dynamodb"])
        at = d.get("ApproximateCreationDateTime")
        if hasattr(at, "timestamp"):
            d["ApproximateCreationDateTime"] = at.timestamp()
        shaped.append({**r, "dynamodb": d, "eventSourceARN": stream_arn})
    return {"Records": json.loads(json.dumps(shaped))}


if __name__ == "__main__":
    main(sys.argv[1:])
