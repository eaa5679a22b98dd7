"""A scheduled job's run state: its time budget, a lease that keeps a second run from doing the same
work at the same time, and a cursor that keeps its place in the due index between invocations.

Neither item is needed for correctness: every per-member change a job makes is a conditional write,
so two runs racing on one member change it once, and a run that starts over from the beginning of
the due index only re-reads what is still due. The lease saves the second run's work; the cursor
keeps a run from re-reading, first every time, members that failed or were skipped and stay due.

    T#<t>#JOB#<job> / LEASE   holder, until (epoch seconds, wall clock); TTL a day later
    T#<t>#JOB#<job> / CURSOR  the index key the next page starts after; cleared when a pass ends
    T#<t>#JOB#inactivity-mark / PASS  a marking pass the inactivity job owes: written with the program
                              change that switched expiry to "after inactivity" (or changed its months)
"""
from __future__ import annotations

import logging
import math
import time
import uuid
from typing import Any, Callable

from pynamodb.attributes import BooleanAttribute, JSONAttribute, NumberAttribute, UnicodeAttribute

from infra import keys
from infra.dynamo_errors import Kind, call, classify, describe
from infra.items.base import TableItem

log = logging.getLogger("kizuna.jobs")

LEASE_SK = "LEASE"
CURSOR_SK = "CURSOR"
PASS_SK = "PASS"
MARKING_JOB = "inactivity-mark"  # the job state (`T#<t>#JOB#inactivity-mark`) of the inactivity job's marking pass
LEASE_SECONDS = 120.0  # renewed while the run works; a killed run's lease lapses this long after its last renewal
LEASE_TTL_SECONDS = 86_400


class Budget:
    """How long a run may go on starting new members: `left()` seconds (infinite without a limit).
    On Lambda it is the invocation's remaining time less a reserve for the member in hand and the
    report (see api/jobs.py); from the command line, a number of seconds or no limit."""

    def __init__(self, remaining: Callable[[], float] | None = None):
        self._remaining = remaining

    @classmethod
    def seconds(cls, seconds: float, clock: Callable[[], float] = time.monotonic) -> Budget:
        deadline = clock() + seconds
        return cls(lambda: deadline - clock())

    def left(self) -> float:
        return math.inf if self._remaining is None else self._remaining()

    def exhausted(self) -> bool:
        return self.left() <= 0


class JobLease(TableItem, discriminator="job-lease"):
    holder = UnicodeAttribute()
    until = NumberAttribute()  # epoch seconds; after it any run may take the lease


class JobCursor(TableItem, discriminator="job-cursor"):
    partition = UnicodeAttribute()  # the GSI2 partition walked (a job's due index)
    start = JSONAttribute()  # ExclusiveStartKey of the next page: GSI2PK, GSI2SK, PK, SK
    updated_at = UnicodeAttribute(attr_name="updatedAt")


class MarkingPass(TableItem, discriminator="marking-pass"):
    """A walk of the members list the inactivity job owes (see `PointsJobs.expire_inactive`)."""

    since = UnicodeAttribute()  # when the program changed; the pass covers members who joined before it settled
    retry = BooleanAttribute(default=False)  # a member failed: when the walk ends, it starts over once more


class Lease:
    """At most one run of a job per tenant at a time, while runs keep their leases fresh."""

    def __init__(self, tenant: str, job: str, seconds: float = LEASE_SECONDS,
                 clock: Callable[[], float] = time.time):
        self.pk = keys.job_pk(tenant, job)
        self.seconds = seconds
        self.clock = clock
        self.holder = uuid.uuid4().hex
        self.until = 0.0
        self.held_by_other_until: float | None = None

    def acquire(self) -> bool:
        """Take the lease when it is free, lapsed or already ours (a retried put that landed)."""
        now = self.clock()
        until = now + self.seconds
        item = JobLease(self.pk, LEASE_SK, holder=self.holder, until=until,
                        expires_at=int(until + LEASE_TTL_SECONDS))
        condition = JobLease.PK.does_not_exist() | (JobLease.until < now) | (JobLease.holder == self.holder)
        try:
            call(lambda: item.save(condition=condition, add_version_condition=False), what="job lease")
        except Exception as e:
            if classify(e) is not Kind.CONDITIONAL:
                raise
            self.held_by_other_until = self._other_until()
            return False
        self.until = until
        return True

    def keep(self) -> bool:
        """Called between members: renews when half the lease is spent. False when another run took it
        (this one lapsed), so the caller stops and leaves the rest to that run."""
        now = self.clock()
        if self.until - now > self.seconds / 2:
            return True
        until = now + self.seconds
        try:
            call(lambda: JobLease(self.pk, LEASE_SK).update(
                [JobLease.until.set(until), JobLease.expires_at.set(int(until + LEASE_TTL_SECONDS))],
                condition=JobLease.holder == self.holder, add_version_condition=False), what="job lease")
        except Exception as e:
            if classify(e) is Kind.CONDITIONAL:
                return False
            # Not renewed now: the run goes on (nothing depends on the lease) and tries at the next member.
            log.warning("job lease %s not renewed: %s", self.pk, describe(e))
            return True
        self.until = until
        return True

    def release(self) -> None:
        try:
            call(lambda: JobLease(self.pk, LEASE_SK).delete(condition=JobLease.holder == self.holder,
                                                             add_version_condition=False), what="job lease")
        except Exception as e:  # taken over, or DynamoDB unavailable: either way it lapses on its own
            if classify(e) is not Kind.CONDITIONAL:
                log.warning("job lease %s not released (it lapses at %.0f): %s", self.pk, self.until, describe(e))

    def _other_until(self) -> float | None:
        try:
            return float(JobLease.get(self.pk, LEASE_SK, consistent_read=True).until)
        except Exception:  # gone meanwhile, or unreadable: only the report's note misses it
            return None


class Cursor:
    """Where a job's walk of its due index stopped. Only a hint: lost, stale or ahead of the other run's
    place, it costs re-reading or leaves members to the next pass, and never changes what a member gets."""

    def __init__(self, tenant: str, job: str):
        self.pk = keys.job_pk(tenant, job)

    def load(self, partition: str, low: str | None, high: str | None,
             sort_key: str = "GSI2SK") -> dict[str, Any] | None:
        """The start key saved for `partition`, when its `sort_key` still lies within [low, high]; else None."""
        try:
            item = call(lambda: JobCursor.get(self.pk, CURSOR_SK, consistent_read=True), what="job cursor")
        except JobCursor.DoesNotExist:
            return None
        except Exception as e:
            log.warning("job cursor %s unreadable, starting from the beginning: %s", self.pk, describe(e))
            return None
        start = item.start or {}
        at = start.get(sort_key, {}).get("S")
        if item.partition != partition or at is None or (high is not None and at > high) or (
                low is not None and at < low):
            return None  # another window (an earlier --now, or the remind window moved on): start over
        return start

    def save(self, partition: str, start: dict[str, Any], now_iso: str) -> None:
        try:
            call(lambda: JobCursor(self.pk, CURSOR_SK, partition=partition, start=start, updated_at=now_iso)
                 .save(add_version_condition=False), what="job cursor")
        except Exception as e:  # the next run re-reads a little more; nothing else changes
            log.warning("job cursor %s not saved: %s", self.pk, describe(e))

    def clear(self) -> None:
        try:
            call(lambda: JobCursor(self.pk, CURSOR_SK).delete(add_version_condition=False), what="job cursor")
        except Exception as e:  # the next run starts from a key past some due items: they wait one more pass
            log.warning("job cursor %s not cleared: %s", self.pk, describe(e))
