"""The event processor: stream records in, outbox events to the listeners of their type.

One code path for both places it runs:
- AWS: the stream event source mapping invokes api/stream_handler.py with a batch of records;
  `handle_records` returns the sequence number of the first record that failed, and Lambda hands that
  record and everything after it in again (ReportBatchItemFailures);
- locally (`make run`, tests): a StreamReader (infra/events/stream.py) reads DynamoDB Local's stream and
  hands each batch to the same code; `drain()` works off everything in the stream now, `run_forever()`
  polls until stopped.

Only INSERTs of outbox items (`~OUT#<ulid>` in a member partition, kind "event") become events; every
other record of the table (profiles, ledger entries, effect marks, checkpoints, TTL deletions) is passed
over. The records of one batch are handled in order and handling stops at the first event a listener
fails on: events of a member stay in order, and what follows comes again with it.
"""
from __future__ import annotations

import json
import logging
import threading
import time
from datetime import datetime, timezone
from typing import Any, Callable, Sequence

from infra import keys
from infra.events.model import Env, Event, Listener, listeners_for
from infra.events.stream import Checkpoints, Outcome, StreamReader

log = logging.getLogger("kizuna.events")

EVENT_KIND = "event"  # infra/items/outbox.OutboxEvent's discriminator
DRAIN_SLEEP_SECONDS = 0.01
FAULTS_BEFORE_ERROR = 3  # reading the stream: consecutive faults logged at WARNING before one at ERROR


def env_factory(programs: Any, clock: Callable[[], datetime] | None = None, outlet: Any = None) -> Callable[[], Env]:
    """Envs for listeners: the time now, the tenant's program through the container's cache
    (infra.points.program_store.ProgramCache) and the container's outlet (infra/events_out/outlet.py)."""
    from infra.points.program_store import ProgramStore  # late: the program store pulls in the models

    now = clock or (lambda: datetime.now(timezone.utc))
    return lambda: Env(now=now(), programs=lambda tenant: ProgramStore(tenant, programs), outlet=outlet)


def _string(image: dict[str, Any], name: str) -> str | None:
    value = image.get(name)
    return value.get("S") if isinstance(value, dict) else None


def sequence_number(record: dict[str, Any]) -> str:
    change = record.get("dynamodb")
    return str((change.get("SequenceNumber") if isinstance(change, dict) else None) or record.get("eventID") or "")


def to_event(record: dict[str, Any]) -> Event | None:
    """The event an outbox INSERT carries, or None for any other record. A record that is an outbox
    item but cannot be read is logged (keys only, never the detail) and passed over."""
    if not isinstance(record, dict) or record.get("eventName") != "INSERT":
        return None
    change = record.get("dynamodb")
    image = change.get("NewImage") if isinstance(change, dict) else None
    if not isinstance(image, dict):
        return None
    pk, sk = _string(image, "PK"), _string(image, "SK")
    if not pk or not sk or not sk.startswith(keys.OUTBOX_PREFIX) or "#M#" not in pk:
        return None
    if _string(image, "kind") != EVENT_KIND:
        return None
    tenant, event_type = _string(image, "tenant"), _string(image, "eventType")
    occurred, detail = _string(image, "occurredAt"), _string(image, "detail")  # JSONAttribute: a JSON string
    try:
        if not tenant or not event_type or not occurred:
            raise ValueError("missing attributes")
        keys.check_tenant(tenant)
        member_id = keys.member_of(pk)
        if pk != keys.member_pk(tenant, member_id):
            raise ValueError("the partition is not the tenant's")
        at = datetime.fromisoformat(occurred)
        parsed = json.loads(detail) if detail else {}
        if not isinstance(parsed, dict):
            raise ValueError("detail is not an object")
    except (ValueError, TypeError) as e:
        log.warning("outbox record %s passed over: %s", sk, type(e).__name__)
        return None
    return Event(tenant=tenant, member_id=member_id, event_id=sk[len(keys.OUTBOX_PREFIX):], type=event_type,
                 occurred_at=at if at.tzinfo else at.replace(tzinfo=timezone.utc), detail=parsed)


def _where(e: BaseException) -> str:
    """The innermost frame of a failure, `file:line`: enough to find it, and no values."""
    tb = e.__traceback__
    while tb is not None and tb.tb_next is not None:
        tb = tb.tb_next
    return f"{tb.tb_frame.f_code.co_filename.rsplit('/', 1)[-1]}:{tb.tb_lineno}" if tb else "?"


class Processor:
    def __init__(self, env_factory: Callable[[], Env], listeners: Sequence[Listener] | None = None, *,
                 reader: StreamReader | None = None):
        self.env_factory = env_factory
        self.listeners = None if listeners is None else list(listeners)
        self.reader = reader

    def listeners_of(self, event_type: str) -> list[Listener]:
        if self.listeners is None:
            return listeners_for(event_type)
        return [x for x in self.listeners if event_type in x.event_types]

    # --- one batch ------------------------------------------------------------------------------

    def handle_records(self, records: Sequence[dict[str, Any]]) -> list[str]:
        """Handle a batch in order; the sequence numbers of the failed records (at most one: handling
        stops at the first failure, and it and everything after it must come again)."""
        outcome = self.handle(list(records))
        return [] if outcome.failed is None else [outcome.failed]

    def handle(self, records: list[dict[str, Any]]) -> Outcome:
        outcome = Outcome(done=0)
        for i, record in enumerate(records):
            event = to_event(record)
            if event is not None:
                listeners = self.listeners_of(event.type)
                if not self._dispatch(event, listeners):
                    outcome.failed = sequence_number(record)
                    return outcome
                outcome.events += 1
                outcome.dispatched += 1 if listeners else 0
            outcome.done = i + 1
        return outcome

    def _dispatch(self, event: Event, listeners: list[Listener]) -> bool:
        """Every listener of the event, each once; False if any raised (those that succeeded recognise
        the event as applied when it comes again)."""
        ok = True
        env: Env | None = None
        for listener in listeners:
            try:
                env = env or self.env_factory()
                listener.handle(event, env)
            except Exception as e:
                ok = False
                # Ids and the failure's class and place only: an exception's text may quote the detail
                # (member emails, names), which must never reach a log.
                log.error("listener %s failed on event %s (%s, tenant %s, member %s): %s at %s",
                          getattr(listener, "name", "?"), event.event_id, event.type, event.tenant,
                          event.member_id, type(e).__name__, _where(e))
        return ok

    # --- locally, from the stream ---------------------------------------------------------------

    def _reader(self) -> StreamReader:
        if self.reader is None:
            raise RuntimeError("this processor reads no stream (on AWS, Lambda hands it the records)")
        return self.reader

    def drain(self, timeout: float = 10.0) -> int:
        """Handle everything in the stream now, including the events listeners write on the way, and
        retries; returns how many events were dispatched. Done when every open shard was read empty at
        its tip twice in a row; raises TimeoutError if that takes longer than `timeout` seconds."""
        reader = self._reader()
        deadline = time.monotonic() + timeout
        dispatched = 0
        while True:
            result = reader.poll(self.handle)
            dispatched += result.dispatched
            if result.quiet:
                return dispatched
            if time.monotonic() > deadline:
                raise TimeoutError(f"the stream did not settle within {timeout} s "
                                   f"({dispatched} events dispatched)")
            if not result.read:
                time.sleep(min(result.waiting or DRAIN_SLEEP_SECONDS, max(deadline - time.monotonic(), 0)))

    def run_forever(self, stop_event: threading.Event, poll_seconds: float = 0.2) -> None:
        """Poll the stream until `stop_event` is set: read again at once while there are records,
        else every `poll_seconds`. A fault reading the stream (DynamoDB Local restarting) is logged and
        the loop goes on; no record is passed before its listeners succeeded."""
        reader = self._reader()
        faults = 0
        while not stop_event.is_set():
            try:
                result = reader.poll(self.handle)
            except Exception as e:
                faults += 1
                # One fault is usually DynamoDB Local going away first at Ctrl-C; several in a row are not.
                log.log(logging.ERROR if faults >= FAULTS_BEFORE_ERROR else logging.WARNING,
                        "reading the stream failed (%d in a row): %s at %s; trying again", faults,
                        type(e).__name__, _where(e))
                stop_event.wait(max(poll_seconds, 1.0))
                continue
            faults = 0
            if not result.read:
                stop_event.wait(min(poll_seconds, result.waiting) if result.waiting else poll_seconds)


def local_processor(table_name: str, *, region: str, endpoint: str | None, programs: Any,
                    start: str = "TRIM_HORIZON", consumer: str | None = "local",
                    listeners: Sequence[Listener] | None = None,
                    clock: Callable[[], datetime] | None = None, outlet: Any = None) -> Processor:
    """A processor reading `table_name`'s stream (the table the models are bound to). With a `consumer`
    it keeps checkpoints under that name and resumes from them; without, it starts at `start` each time."""
    reader = StreamReader.for_table(table_name, region=region, endpoint=endpoint, start=start,
                                    checkpoints=Checkpoints(consumer) if consumer else None)
    return Processor(env_factory(programs, clock, outlet), listeners, reader=reader)
