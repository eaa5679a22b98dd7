"""Reading the table's DynamoDB stream outside AWS Lambda: DynamoDB Local's stream API (the same calls as
DynamoDB Streams: DescribeStream, GetShardIterator, GetRecords).

On AWS the stream event source mapping does this work (api/stream_handler.py); locally `make run` and the
tests do it with this reader. What it keeps to:
- shard lineage: a child shard is read only once its parent is read to its end (a parent no longer
  listed was trimmed), so the events of one member, which all sit in one partition, arrive in order;
- a checkpoint per shard, stored in the table (infra/events/items.StreamCheckpoint), written only after
  every record up to it was handled: a restarted reader resumes AFTER_SEQUENCE_NUMBER, and records it had
  handled but not checkpointed come again (listeners recognise them by their effect marks);
- a batch that fails is not passed: the reader goes back to the failed record (AT_SEQUENCE_NUMBER) and
  tries again after a backoff, so nothing behind it is lost;
- a shard without a checkpoint starts at TRIM_HORIZON (everything the stream still keeps), or, with
  `start="LATEST"`, the shards open when the reader starts begin at their tip (tests that only want to
  see what they write); shards found later always start at TRIM_HORIZON.
"""
from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any, Callable, Iterable

from infra.events.items import StreamCheckpoint, checkpoint_pk, checkpoint_sk
from infra.items.base import read_partition

log = logging.getLogger("kizuna.events.stream")

CHECKPOINT_TTL_SECONDS = 7 * 24 * 3600  # refreshed on every save; the stream keeps records 24 h
RECORDS_PER_READ = 1000  # GetRecords' maximum
RETRY_FIRST_SECONDS = 0.1
RETRY_MAX_SECONDS = 10.0


@dataclass
class Outcome:
    """What handling one batch of records came to: `done` records (from the start) are fully handled;
    `failed` is the sequence number of the record that failed (it and everything after it come again)."""

    done: int
    failed: str | None = None
    dispatched: int = 0  # events handed to their listeners, all of which succeeded
    events: int = 0  # outbox events among the done records (worth a checkpoint)


Handle = Callable[[list[dict[str, Any]]], Outcome]


class Checkpoints:
    """Where one consumer of the stream stopped, per shard, in the consumer's own partition."""

    def __init__(self, consumer: str):
        self.consumer = consumer

    def load(self) -> dict[str, StreamCheckpoint]:
        items = read_partition(checkpoint_pk(self.consumer))
        return {i.shard_id: i for i in items if isinstance(i, StreamCheckpoint)}

    def save(self, stream_arn: str, shard_id: str, sequence_number: str | None, *, finished: bool = False) -> None:
        now = datetime.now(timezone.utc)
        StreamCheckpoint(checkpoint_pk(self.consumer), checkpoint_sk(shard_id), stream_arn=stream_arn,
                         shard_id=shard_id, sequence_number=sequence_number,
                         finished=now.isoformat() if finished else None, updated_at=now.isoformat(),
                         expires_at=int(now.timestamp()) + CHECKPOINT_TTL_SECONDS).save()


@dataclass
class _Shard:
    id: str
    parent: str | None
    closed: bool  # DynamoDB gave it an ending sequence number: no records are added any more
    iterator: str | None = None
    position: str | None = None  # the last record handled (in this process or from the checkpoint)
    saved: str | None = None  # the last checkpointed record
    retry_from: str | None = None  # a failed record: read again from it
    retry_at: float = 0.0
    failures: int = 0
    empty_reads: int = 0  # consecutive empty reads at the tip (open shards)
    finished: bool = False  # read to its end (closed shards), or skipped (closed before a LATEST start)
    latest: bool = False  # no checkpoint, start="LATEST" and open at the start: begin at the tip


@dataclass
class PassResult:
    read: int = 0  # records read
    dispatched: int = 0
    quiet: bool = True  # every readable shard was read empty at its tip and nothing waits for a retry
    waiting: float | None = None  # seconds until the nearest retry, when one is pending


class StreamReader:
    """One reader of one table's stream. Not thread-safe: one thread reads (the processor's)."""

    def __init__(self, streams: Any, stream_arn: str, *, start: str = "TRIM_HORIZON",
                 checkpoints: Checkpoints | None = None, clock: Callable[[], float] = time.monotonic):
        if start not in ("TRIM_HORIZON", "LATEST"):
            raise ValueError("start is TRIM_HORIZON or LATEST")
        self.streams = streams
        self.stream_arn = stream_arn
        self.start = start
        self.checkpoints = checkpoints
        self.clock = clock
        self.shards: dict[str, _Shard] = {}
        self._first_listing = True
        saved = checkpoints.load() if checkpoints else {}
        self.refresh(saved)

    @classmethod
    def for_table(cls, table_name: str, *, region: str, endpoint: str | None = None, **kw: Any) -> "StreamReader":
        """A reader of `table_name`'s stream; with an `endpoint` (DynamoDB Local) under fixed dummy
        credentials, as infra/items/base.bind_table does."""
        import boto3

        options: dict[str, Any] = {"region_name": region}
        if endpoint:
            options.update(endpoint_url=endpoint, aws_access_key_id="local", aws_secret_access_key="local")
        table = boto3.client("dynamodb", **options).describe_table(TableName=table_name)["Table"]
        arn = table.get("LatestStreamArn")
        if not arn:
            raise RuntimeError(f"table {table_name} has no stream")
        return cls(boto3.client("dynamodbstreams", **options), arn, **kw)

    # --- shards ---------------------------------------------------------------------------------

    def _list_shards(self) -> list[dict[str, Any]]:
        shards: list[dict[str, Any]] = []
        start: str | None = None
        while True:
            args: dict[str, Any] = {"StreamArn": self.stream_arn}
            if start:
                args["ExclusiveStartShardId"] = start
            description = self.streams.describe_stream(**args)["StreamDescription"]
            shards += description.get("Shards", [])
            start = description.get("LastEvaluatedShardId")
            if not start:
                return shards

    def refresh(self, saved: dict[str, StreamCheckpoint] | None = None) -> None:
        """Learn new shards and which ones closed. On the first listing, apply the checkpoints and the
        start position; a LATEST start takes its iterators now, so what is written from here on is seen."""
        first = self._first_listing
        self._first_listing = False
        for raw in self._list_shards():
            closed = "EndingSequenceNumber" in raw.get("SequenceNumberRange", {})
            shard = self.shards.get(raw["ShardId"])
            if shard is not None:
                shard.closed = shard.closed or closed
                continue
            shard = _Shard(raw["ShardId"], raw.get("ParentShardId"), closed)
            mark = (saved or {}).get(shard.id)
            if mark is not None:
                shard.position = shard.saved = mark.sequence_number
                shard.finished = bool(mark.finished)
            elif first and self.start == "LATEST":
                shard.finished = closed  # what it held was written before this reader started
                shard.latest = not closed
            self.shards[shard.id] = shard
        if first:
            for shard in self.shards.values():
                if shard.latest:
                    shard.iterator = self._iterator(shard)

    def _ready(self, shard: _Shard) -> bool:
        parent = self.shards.get(shard.parent) if shard.parent else None
        return not shard.finished and (parent is None or parent.finished)

    def _iterator(self, shard: _Shard) -> str:
        args: dict[str, Any] = {"StreamArn": self.stream_arn, "ShardId": shard.id}
        if shard.retry_from:
            args.update(ShardIteratorType="AT_SEQUENCE_NUMBER", SequenceNumber=shard.retry_from)
        elif shard.position:
            args.update(ShardIteratorType="AFTER_SEQUENCE_NUMBER", SequenceNumber=shard.position)
        elif shard.latest:
            args.update(ShardIteratorType="LATEST")
        else:
            args.update(ShardIteratorType="TRIM_HORIZON")
        try:
            return self.streams.get_shard_iterator(**args)["ShardIterator"]
        except self.streams.exceptions.TrimmedDataAccessException:
            # The checkpoint is older than the stream's 24 hours: what followed it is gone from the
            # stream; read what is left.
            log.error("stream position trimmed, reading shard %s from its oldest record", shard.id)
            shard.retry_from = shard.position = None
            shard.latest = False
            return self.streams.get_shard_iterator(StreamArn=self.stream_arn, ShardId=shard.id,
                                                   ShardIteratorType="TRIM_HORIZON")["ShardIterator"]

    # --- reading --------------------------------------------------------------------------------

    def poll(self, handle: Handle) -> PassResult:
        """One pass: one read of every shard that may be read now, each batch handed to `handle`."""
        self.refresh()
        result = PassResult()
        now = self.clock()
        for shard in self._in_lineage_order():
            if not self._ready(shard):
                if not shard.finished:
                    result.quiet = False  # a child waiting for its parent
                continue
            if shard.retry_at > now:
                result.quiet = False
                wait = shard.retry_at - now
                result.waiting = wait if result.waiting is None else min(result.waiting, wait)
                continue
            read, dispatched, at_tip = self._read(shard, handle)
            result.read += read
            result.dispatched += dispatched
            if not at_tip:
                result.quiet = False
        return result

    def _in_lineage_order(self) -> Iterable[_Shard]:
        """Parents before children (a child's records follow its parent's)."""
        done: set[str] = set()
        ordered: list[_Shard] = []

        def visit(shard: _Shard) -> None:
            if shard.id in done:
                return
            done.add(shard.id)
            parent = self.shards.get(shard.parent) if shard.parent else None
            if parent is not None:
                visit(parent)
            ordered.append(shard)

        for shard in list(self.shards.values()):
            visit(shard)
        return ordered

    def _read(self, shard: _Shard, handle: Handle) -> tuple[int, int, bool]:
        """Read once from `shard`; returns (records read, events dispatched, at its tip twice running)."""
        if shard.iterator is None:
            shard.iterator = self._iterator(shard)
        try:
            page = self.streams.get_records(ShardIterator=shard.iterator, Limit=RECORDS_PER_READ)
        except self.streams.exceptions.ExpiredIteratorException:
            shard.iterator = None  # iterators last 15 minutes: take a new one from the position
            return 0, 0, False
        records = page.get("Records", [])
        following = page.get("NextShardIterator")
        if not records:
            shard.iterator = following
            if following is None:
                self._finish(shard)
                return 0, 0, True
            shard.empty_reads += 1
            return 0, 0, shard.empty_reads >= 2
        shard.empty_reads = 0
        outcome = handle(records)
        if outcome.done:
            shard.position = records[outcome.done - 1]["dynamodb"]["SequenceNumber"]
        if outcome.failed is not None:
            # Back to the failed record: it and all after it are read again after a backoff.
            shard.retry_from = outcome.failed
            shard.iterator = None
            shard.failures += 1
            shard.retry_at = self.clock() + min(RETRY_FIRST_SECONDS * 2 ** (shard.failures - 1), RETRY_MAX_SECONDS)
            log.warning("stream shard %s: a record failed (attempt %d), retrying", shard.id, shard.failures)
        else:
            shard.retry_from = None
            shard.failures = 0
            shard.retry_at = 0.0
            shard.iterator = following
        if outcome.events and shard.position != shard.saved:
            self._save(shard)
        if outcome.failed is None and following is None:
            self._finish(shard)
        return len(records), outcome.dispatched, False

    def _save(self, shard: _Shard) -> None:
        # Only after events: a checkpoint is itself a write the stream carries, and saving one for a
        # batch of nothing but checkpoints would feed the stream forever.
        if self.checkpoints is not None:
            self.checkpoints.save(self.stream_arn, shard.id, shard.position)
        shard.saved = shard.position

    def _finish(self, shard: _Shard) -> None:
        shard.finished = True
        shard.iterator = None
        if self.checkpoints is not None:
            self.checkpoints.save(self.stream_arn, shard.id, shard.position, finished=True)

