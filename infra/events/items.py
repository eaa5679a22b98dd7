"""Items of the event processor: effect marks (applied once) and where the local reader stopped."""
from __future__ import annotations

from pynamodb.attributes import UnicodeAttribute

from infra.items.base import TableItem

# The local reader's checkpoints live in a partition of their own, `T#~stream#<consumer>`: every
# tenant matches [a-z0-9][a-z0-9-]{0,39} (infra/keys.check_tenant), so no tenant's keys, which all start
# `T#<tenant>#`, can ever start `T#~`. Only the local runner writes them; on AWS the event source mapping
# keeps its own position.
CHECKPOINT_PARTITION = "T#~stream#"
CHECKPOINT_PREFIX = "SHARD#"


def checkpoint_pk(consumer: str) -> str:
    return f"{CHECKPOINT_PARTITION}{consumer}"


def checkpoint_sk(shard_id: str) -> str:
    return f"{CHECKPOINT_PREFIX}{shard_id}"


class EffectMark(TableItem, discriminator="effect"):
    """`~FX#<event>#<listener>`: this listener applied this event; TTL three days."""

    listener = UnicodeAttribute()


class StreamCheckpoint(TableItem, discriminator="stream-checkpoint"):
    """`T#~stream#<consumer>` / `SHARD#<shardId>`: the last record of that shard fully handled (every
    listener of every event up to it succeeded), or `finished` once a closed shard was read to its end.
    The stream keeps records 24 hours; a checkpoint lives a little longer (TTL) and then goes with its
    shard."""

    stream_arn = UnicodeAttribute(attr_name="streamArn")
    shard_id = UnicodeAttribute(attr_name="shardId")
    sequence_number = UnicodeAttribute(attr_name="sequenceNumber", null=True)
    finished = UnicodeAttribute(null=True)  # the time a closed shard was read to its end
    updated_at = UnicodeAttribute(attr_name="updatedAt")
