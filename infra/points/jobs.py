"""Scheduled work, found through the due-date index (GSI2), never a Scan: release pending points
when return windows close, expire lots, expire after inactivity, and warn before expiry.

At a brand's scale (a due index of 100,000 members) a job walks its index in pages of `page_size`
items (a Query with Limit and ExclusiveStartKey; the index is never held in memory) and settles one
item, one member, at a time:

- Isolated: any exception while settling one member (RetryLater, a refused transaction, a bug) is
  logged at ERROR with the member id, counted in `JobReport.failed` and listed in
  `JobReport.failures`; the member stays due and the walk goes on with the next.
- Bounded: before each member the run asks its `Budget`; when it is spent, the run saves its place
  and returns with `complete=False`.
- Resumable: processed items leave the due index (their GSI2 keys are removed, or the item is
  deleted), and a cursor (`infra/jobs_state.py`) saved after every page and at a stop lets the next
  run continue where this one stopped instead of re-reading, first every time, the members that
  failed. When a walk reaches the end of the index the cursor is cleared: the next pass starts from
  the beginning, and so retries whatever failed.
- Safe to overlap: every per-member change is a conditional write, so two runs on the same member
  change it once. A lease keeps a second run from doing the same work meanwhile; nothing depends on it.
"""
from __future__ import annotations

import logging
import time
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from typing import Any, Callable, Iterator

from domain.errors import UserError
from domain.points import lots as lot_rules
from domain.points.actions import BIRTHDAY, birthday_days
from domain.points.balance import EntryStatus, EntryType, Movement, release
from domain.points.program import ExpiryMode, Program
from infra import keys
from infra.dynamo_errors import Kind, RetryLater, call, classify
from infra.items import MemberProfile, TableItem, read_partition
from infra.jobs_state import LEASE_SECONDS, MARKING_JOB, PASS_SK, Budget, Cursor, Lease, MarkingPass
from infra.members import Members, outbox_event
from infra.points.adjustments import ActionCredits
from infra.points.orders import OrderBook
from infra.points.items import LedgerEntry, OrderRecord, PointLot
from infra.points.history import to_lot
from infra.points.ledger import Change, MemberLedger, inactive_mark, last_activity, profile_balance
from infra.points.program_store import ProgramStore
from infra.posts.desk import release_attempt
from infra.posts.items import PostItem
from infra.table import DUE_INDEX, LOOKUP_INDEX
from infra.tiers import birthday as tier_birthday
from infra.transaction import Transaction, TransactionCancelled

log = logging.getLogger("kizuna.jobs")
ATTEMPTS = 5
PAGE_SIZE = 100  # due items per Query: a page is a few seconds of work, so the cursor is rarely far behind
REPORT_LIMIT = 200  # members and failures listed in a report; the counts are always complete


class KeptChanging(Exception):
    """The member's items changed under every attempt to settle it: it stays due for a later run."""


@dataclass
class MemberFailure:
    member_id: str
    item: str  # sort key of the due item (order, lot or profile)
    reason: str


@dataclass
class JobReport:
    job: str
    tenant: str
    processed: int = 0
    points: int = 0
    skipped: int = 0
    failed: int = 0  # members whose settling raised; each stays due and is logged at ERROR
    failures: list[MemberFailure] = field(default_factory=list)  # the first REPORT_LIMIT of them
    members: list[str] = field(default_factory=list)  # members settled, the first REPORT_LIMIT of them
    complete: bool = True  # False: stopped by its budget, its lease or an unreadable index; the next run continues
    resumed: bool = False  # began where an earlier run stopped (its cursor)
    seen: int = 0  # due items read
    pages: int = 0
    seconds: float = 0.0
    listed: int = 0  # inactivity: members the marking pass read from the members list
    marked: int = 0  # inactivity: members the marking pass gave the due mark of the program's rule
    error: str | None = None  # the job itself could not go on (e.g. the due index unreadable)
    note: str | None = None

    @property
    def ok(self) -> bool:
        return self.failed == 0 and self.error is None

    def fail(self, member_id: str, item: str, reason: str) -> None:
        self.failed += 1
        if len(self.failures) < REPORT_LIMIT:
            self.failures.append(MemberFailure(member_id, item, reason))

    def settled(self, member_id: str) -> None:
        if len(self.members) < REPORT_LIMIT and member_id not in self.members:
            self.members.append(member_id)


@dataclass(frozen=True)
class Listing:
    """What a walk reads, a page at a time and never with a Scan: a job's due index (GSI2) up to a date,
    or the members list (GSI1) for the inactivity job's marking pass."""

    index: str
    partition: str
    condition: Any  # on the index's sort key
    low: str | None  # the sort key range, for the cursor: a saved place outside it is stale
    high: str | None
    place: str  # what the cursor is saved under: the partition (and for a marking pass, the pass)
    key_names: tuple[str, ...]  # an ExclusiveStartKey: the index's keys and the table's

    def page(self, start: dict[str, Any] | None, page_size: int) -> tuple[list[dict], dict | None]:
        """At most `page_size` raw items after `start`, and the start key of the next page (None after the last)."""
        connection = TableItem._get_connection()
        data = call(lambda: connection.query(self.partition, range_key_condition=self.condition, index_name=self.index,
                                             limit=page_size, exclusive_start_key=start), what=f"{self.place} page")
        return data.get("Items", []), data.get("LastEvaluatedKey")

    def key_of(self, raw: dict[str, Any]) -> dict[str, Any]:
        """The ExclusiveStartKey that continues the Query right after this item."""
        return {name: raw[name] for name in self.key_names}


def due_listing(tenant: str, job: str, until: datetime, since: datetime | None = None) -> Listing:
    """A job's due items, oldest due first: due by `until` (and from `since`)."""
    pk = keys.due_pk(tenant, job)
    condition = TableItem.GSI2SK.between(since.isoformat(), _upto(until)) if since \
        else TableItem.GSI2SK <= _upto(until)
    return Listing(DUE_INDEX, pk, condition, since.isoformat() if since else None, _upto(until), pk,
                   ("GSI2PK", "GSI2SK", "PK", "SK"))


def _upto(until: datetime) -> str:
    """Due sort keys are `<iso time>#<member>...`: everything due at or before `until` sorts below this."""
    return until.isoformat() + "~"


def _member_of(raw: dict[str, Any]) -> str:
    """The member a due item belongs to, from its key alone (the item itself may be what is broken)."""
    member = raw.get("memberId", {}).get("S")
    if member:
        return member
    pk = raw.get("PK", {}).get("S", "")
    return pk.split("#M#", 1)[1] if "#M#" in pk else pk


def _unchanged(profile: MemberProfile) -> Any:
    """The profile's last activity and available points are still what was read."""
    P = MemberProfile
    active = P.last_activity_at.does_not_exist() if profile.last_activity_at is None \
        else P.last_activity_at == profile.last_activity_at
    return active & (P.available == int(profile.available))


def _profile(pk: str) -> MemberProfile | None:
    try:
        return MemberProfile.get(pk, keys.PROFILE, consistent_read=True)
    except MemberProfile.DoesNotExist:
        return None


def _update_profile(profile: MemberProfile, actions: list[Any], condition: Any) -> bool:
    """Set or move a due mark: one conditional UpdateItem. False when the profile changed since the read."""
    try:
        call(lambda: MemberProfile(profile.PK, profile.SK).update(actions, condition=condition),
             what="member due mark")
    except Exception as e:
        if classify(e) is Kind.CONDITIONAL:
            return False
        raise
    return True


def _reason(e: BaseException) -> str:
    text = f"{type(e).__name__}: {e}"
    return text if len(text) <= 300 else text[:297] + "..."


# Lots removed per transaction by the inactivity job: with the profile, the entry and the event, 28 of the
# 100 actions DynamoDB takes in one transaction.
INACTIVITY_CHUNK = 25


def _left_in(lots: list[PointLot], consumed: int, lot_key: str) -> int:
    """What one lot has left, walking all of the member's lots oldest-expiring first."""
    walked = lot_rules.what_is_left([to_lot(x) for x in lots], consumed)
    return next((x.left for x in walked if x.lot.key == lot_key), 0)


class PointsJobs:
    """The points jobs of one tenant. `budget` bounds how long a run starts new members (shared by every
    job run through this object); `lease=False` lets two runs race, as tests of the conditions need."""

    def __init__(self, tenant: str, programs: ProgramStore, *, budget: Budget | None = None,
                 page_size: int = PAGE_SIZE, lease: bool = True, lease_seconds: float = LEASE_SECONDS):
        self.tenant = tenant
        self.programs = programs
        self.budget = budget or Budget()
        self.page_size = page_size
        self.lease = lease
        self.lease_seconds = lease_seconds

    def _card(self, member_id: str) -> tuple[MemberProfile | None, list[PointLot]]:
        items = call(lambda: read_partition(keys.member_pk(self.tenant, member_id),
                                            TableItem.SK.between(keys.DASHBOARD_FROM, keys.DASHBOARD_TO)),
                     what="member card")
        profile = next((i for i in items if isinstance(i, MemberProfile)), None)
        return profile, [i for i in items if isinstance(i, PointLot)]

    def _settle(self, report: JobReport, what: str,
                attempt: Callable[[], tuple[Transaction, int] | None]) -> None:
        """Read, decide and commit one item; when it moved meanwhile, read again (a few times).
        Every commit is conditioned on what was read, so a racing run's change is never doubled."""
        for _ in range(ATTEMPTS):
            planned = attempt()
            if planned is None:
                report.skipped += 1
                return
            tx, points = planned
            try:
                tx.commit()
            except TransactionCancelled:
                continue
            report.processed += 1
            report.points += points
            return
        raise KeptChanging(f"{what} kept changing")

    # -- the walk every due-index job shares -----------------------------------------------------------
    @contextmanager
    def _leased(self, report: JobReport) -> Iterator[tuple[bool, Lease | None]]:
        """(go, lease) for the run: go is False when another run holds the job's lease (the report
        says until when); lease is None when this object runs without one."""
        if not self.lease:
            yield True, None
            return
        lease = Lease(self.tenant, report.job, self.lease_seconds)
        if not lease.acquire():
            report.complete = False
            until = lease.held_by_other_until
            report.note = "another run holds the lease" + (
                f" until {datetime.fromtimestamp(until, timezone.utc).isoformat(timespec='seconds')}"
                if until else "")
            yield False, None
            return
        try:
            yield True, lease
        finally:
            lease.release()

    def _walk(self, report: JobReport, job: str, until: datetime, settle: Callable[[Any], None], *,
              kind: type[TableItem] | tuple[type[TableItem], ...], since: datetime | None = None) -> JobReport:
        """Settle every item of the due index `job` due by `until` (and from `since`), one page at a
        time, each item on its own: what one raises is reported and the walk goes on."""
        started = time.monotonic()
        with self._leased(report) as (go, lease):
            if go:
                self._pages(report, due_listing(self.tenant, job, until, since), Cursor(self.tenant, report.job),
                            settle, kind, lease)
        report.seconds = round(time.monotonic() - started, 3)
        return report

    def _pages(self, report: JobReport, listing: Listing, cursor: Cursor, settle: Callable[[Any], None],
               kind: type[TableItem] | tuple[type[TableItem], ...], lease: Lease | None) -> str:
        """Walk `listing` from the cursor's place. Returns "end" (the walk reached the end: the cursor is
        cleared), "stopped" (budget or lease: the place is saved) or "error" (the listing unreadable)."""
        sort_key = listing.key_names[1]
        start = cursor.load(listing.place, listing.low, listing.high, sort_key)
        report.resumed = start is not None
        now_iso = datetime.now(timezone.utc).isoformat()
        while True:
            try:
                raws, next_start = listing.page(start, self.page_size)
            except Exception as e:  # the index unreadable now: stop here, keep the place, report it
                report.error, report.complete = f"due index unreadable: {_reason(e)}", False
                log.error("job %s for %s: due index unreadable (%s); it continues from here next run",
                          report.job, self.tenant, _reason(e))
                if start is not None:
                    cursor.save(listing.place, start, now_iso)
                return "error"
            report.pages += 1
            last = start
            for raw in raws:
                if self.budget.exhausted() or (lease is not None and not lease.keep()):
                    report.complete = False
                    report.note = "budget spent" if self.budget.exhausted() else "lease taken over by another run"
                    if last is not None:
                        cursor.save(listing.place, last, now_iso)
                    return "stopped"
                report.seen += 1
                self._one(report, raw, kind, settle)
                last = listing.key_of(raw)
            if not next_start:
                cursor.clear()  # a pass is done: the next run starts over, retrying what failed or waited
                return "end"
            start = next_start
            cursor.save(listing.place, start, now_iso)

    def _one(self, report: JobReport, raw: dict[str, Any], kind: type[TableItem] | tuple[type[TableItem], ...],
             settle: Callable[[Any], None]) -> None:
        member = _member_of(raw)
        sort_key = raw.get("SK", {}).get("S", "?")
        before = report.processed
        try:
            item = TableItem.from_raw_data(raw)
            if not isinstance(item, kind):
                return  # another kind in the same partition: not this job's to settle
            settle(item)
        except Exception as e:  # one member's failure, whatever it is, must not stop the others
            report.fail(member, sort_key, _reason(e))
            expected = isinstance(e, (RetryLater, UserError, KeptChanging, TransactionCancelled))
            log.error("job %s for %s: member %s failed on %s: %s; it stays due and is retried next pass",
                      report.job, self.tenant, member, sort_key, _reason(e), exc_info=not expected)
            return
        if report.processed > before:
            report.settled(member)

    # -- per member: what the expiry jobs commit, each conditioned on exactly what it was computed from --
    def _expiry(self, member_id: str, profile: MemberProfile, lots: list[PointLot], gone: list[PointLot],
                now: datetime, program: Program, reason: str, *, everything: bool = False,
                condition: Any = None, extra_actions: list[Any] | None = None) -> tuple[Transaction, int]:
        """The transaction that removes the lots `gone` (of all the member's `lots`) and expires what they
        had left. `lotsConsumed` drops by what had been taken from them, so every other lot keeps exactly
        what it had: `sum(lots) - lotsConsumed == available` holds after it, as before. `everything`: all
        the lots go, and available and `lotsConsumed` both become 0."""
        known = profile_balance(profile)
        consumed = int(profile.lots_consumed)
        if everything:
            movement = Movement(available=-known.available, consumed=-consumed)
        else:
            names = {x.SK for x in gone}
            left = sum(x.left for x in lot_rules.what_is_left([to_lot(x) for x in lots], consumed)
                       if x.lot.key in names)
            movement = Movement(available=-left, consumed=left - sum(int(x.points) for x in gone))
        tx = Transaction()
        for lot in gone:
            # A lot that grew (a credit added to its bucket) or went since it was read fails the
            # transaction, and the member is read again.
            tx.delete(f"lot:{lot.SK}", lot, PointLot.points == int(lot.points))
        expired = -movement.available
        unchanged = MemberProfile.lots_consumed == consumed
        if condition is not None:
            unchanged &= condition
        MemberLedger(self.tenant, member_id, now, program).add(
            tx, Change(movement, EntryType.EXPIRY, reason=reason, activity=False,
                       event="points.expired" if expired else None), known,
            extra_condition=unchanged, extra_actions=extra_actions)
        return tx, expired

    def _expire_lot(self, member_id: str, lot_key: str, now: datetime,
                    program: Program) -> tuple[Transaction, int] | None:
        """One lot (an expiry bucket) past its date: what it has left expires and the lot goes."""
        profile, lots = self._card(member_id)
        lot = next((x for x in lots if x.SK == lot_key), None)
        if profile is None or lot is None or not lot.expires_on or datetime.fromisoformat(lot.expires_on) > now:
            return None
        return self._expiry(member_id, profile, lots, [lot], now, program, "Points expired")

    def _expire_inactive_member(self, member_id: str, now: datetime, program: Program,
                                expired: list[int]) -> tuple[Transaction, int] | None:
        """Everything a member due for inactivity expiry holds. Returns the last transaction, for
        `_settle` to commit: at most INACTIVITY_CHUNK lots go, the balance becomes 0 and the due mark goes.
        A member with more lots (one per credit, written before buckets; or dated buckets from before the
        program switched to inactivity) first loses the oldest INACTIVITY_CHUNK at a time, each chunk its
        own transaction and EXPIRY entry, committed here: the books are exact after every chunk, and a run
        that stops between chunks leaves the member due, so the next run goes on. `expired` carries the
        points of the committed chunks into the total, across `_settle`'s attempts.

        The mark only says when to look. The member is due when their last activity is N months past
        (as `expiringSoon` tells them) and they hold available points. Marked sooner (a credit without
        activity marks "now", the program's months changed), the mark moves to that date; with nothing
        available, the mark goes (the next credit or activity sets it again). Neither counts as settled."""
        cancelled = 0
        while True:
            profile, lots = self._card(member_id)
            if profile is None or profile.GSI2SK is None or profile.GSI2SK > _upto(now):
                return None
            still = _unchanged(profile)  # still inactive, and no credit or spend since the read
            due = lot_rules.inactivity_expiry(last_activity(profile), program)
            if due is None or due > now or int(profile.available) <= 0:
                P = MemberProfile
                actions = [P.GSI2SK.set(inactive_mark(member_id, due))] if due is not None and due > now \
                    and int(profile.available) > 0 else [P.GSI2PK.remove(), P.GSI2SK.remove()]
                if _update_profile(profile, actions, still & (P.GSI2SK == profile.GSI2SK)):
                    return None
            else:
                reason = "Points expired after inactivity"
                if len(lots) <= INACTIVITY_CHUNK:
                    tx, points = self._expiry(member_id, profile, lots, lots, now, program, reason, everything=True,
                                              condition=still, extra_actions=[MemberProfile.GSI2PK.remove(),
                                                                              MemberProfile.GSI2SK.remove()])
                    return tx, expired[0] + points
                oldest = sorted(lots, key=lambda x: lot_rules.walk_order(to_lot(x)))[:INACTIVITY_CHUNK]
                tx, points = self._expiry(member_id, profile, lots, oldest, now, program, reason, condition=still)
                try:
                    tx.commit()
                    expired[0] += points
                    continue
                except TransactionCancelled:
                    pass
            cancelled += 1
            if cancelled >= ATTEMPTS:
                raise KeptChanging(f"member {member_id} kept changing") from None

    # -- the marking pass after a switch to inactivity expiry ---------------------------------------------
    def _marking_pass(self, report: JobReport, now: datetime, program: Program, lease: Lease | None) -> bool:
        """When the program has just switched to inactivity expiry (or changed its months), members carry
        due marks of the old rule or none: this walks the members list (GSI1, pages, budget, cursor, each
        member on its own) and marks every member holding available points at the date the new rule
        gives them, once. Returns whether the expiry walk may follow in this run (not when the budget or
        the lease stopped the pass)."""
        owed = self._owed_pass()
        if owed is None:
            return True
        # Until the program cache has expired everywhere, a container may still credit by the old rule,
        # without a mark: the pass starts after that, and covers every member who joined until then (later
        # ones have been credited by the new rule only, which marks them).
        settled = datetime.fromisoformat(owed.since) + timedelta(seconds=self.programs.cache.ttl)
        if now < settled:
            report.note = "the marking pass waits for the program change to reach every container"
            return True
        members = keys.members_list_pk(self.tenant)
        listing = Listing(LOOKUP_INDEX, members, TableItem.GSI1SK <= _upto(settled), None, _upto(settled),
                          f"{members}@{owed.since}", ("GSI1PK", "GSI1SK", "PK", "SK"))
        walk = JobReport(MARKING_JOB, self.tenant)

        def settle(item: MemberProfile) -> None:
            try:
                self._mark(walk, item, program)
            except Exception:
                self._owed_again(owed)  # the pass starts over once more when it ends, for this member
                raise

        status = self._pages(walk, listing, Cursor(self.tenant, MARKING_JOB), settle, MemberProfile, lease)
        report.listed, report.marked = walk.seen, walk.processed
        for f in walk.failures:
            report.fail(f.member_id, f.item, f.reason)
        report.failed += walk.failed - len(walk.failures)
        if walk.error:
            report.error = f"marking pass: {walk.error}"
        if not walk.complete:
            report.complete, report.note = False, f"marking pass: {walk.note}" if walk.note else report.note
        if status == "end":
            self._pass_done(owed)
        return status != "stopped"

    def _mark(self, report: JobReport, listed: MemberProfile, program: Program) -> None:
        """Give one member the due mark the program gives them, if they hold available points and their
        mark is not that already; a member who changed since the read is read again."""
        copies = iter([listed])
        for _ in range(ATTEMPTS):
            profile = next(copies, None) or call(lambda: _profile(listed.PK), what="member profile")
            if profile is None or int(profile.available) <= 0:
                report.skipped += 1
                return
            due = lot_rules.inactivity_expiry(last_activity(profile), program)
            mark = inactive_mark(profile.member_id, due) if due else None
            if mark is None or (profile.GSI2PK, profile.GSI2SK) == (keys.due_pk(self.tenant, "INACTIVE"), mark):
                report.skipped += 1
                return
            condition = _unchanged(profile) & (
                MemberProfile.GSI2SK.does_not_exist() if profile.GSI2SK is None else MemberProfile.GSI2SK == profile.GSI2SK)
            if _update_profile(profile, [MemberProfile.GSI2PK.set(keys.due_pk(self.tenant, "INACTIVE")),
                                         MemberProfile.GSI2SK.set(mark)], condition):
                report.processed += 1
                return
        raise KeptChanging(f"member {listed.member_id} kept changing")

    def _owed_pass(self) -> MarkingPass | None:
        try:
            return call(lambda: MarkingPass.get(keys.job_pk(self.tenant, MARKING_JOB), PASS_SK, consistent_read=True),
                        what="marking pass")
        except MarkingPass.DoesNotExist:
            return None

    def _owed_again(self, owed: MarkingPass) -> None:
        try:
            call(lambda: MarkingPass(owed.PK, owed.SK).update([MarkingPass.retry.set(True)],
                                                              condition=MarkingPass.since == owed.since,
                                                              add_version_condition=False), what="marking pass")
        except Exception as e:  # a newer pass replaced it (it walks everyone anyway), or unwritable now
            log.warning("marking pass of %s not flagged for another walk: %s", self.tenant, _reason(e))

    def _pass_done(self, owed: MarkingPass) -> None:
        """The walk reached the end: the pass is done, unless a member failed on the way (then it walks
        again once more, next run) or a newer program change replaced it meanwhile."""
        P = MarkingPass
        try:
            call(lambda: P(owed.PK, owed.SK).delete(condition=(P.since == owed.since) & (
                P.retry.does_not_exist() | (P.retry == False)), add_version_condition=False),  # noqa: E712
                what="marking pass")
            return
        except Exception:
            pass
        try:
            call(lambda: P(owed.PK, owed.SK).update([P.retry.set(False)], condition=(P.since == owed.since),
                                                    add_version_condition=False), what="marking pass")
        except Exception as e:  # replaced by a newer pass: that one walks everyone
            log.info("marking pass of %s left as it is: %s", self.tenant, _reason(e))

    def _remind_lot(self, member_id: str, lot_key: str, now: datetime) -> tuple[Transaction, int] | None:
        """An expiring-soon event for what one lot will lose, once for what it holds: a credit to the
        bucket afterwards clears `reminded`, so the next run announces the new total."""
        profile, lots = self._card(member_id)
        lot = next((x for x in lots if x.SK == lot_key), None)
        if profile is None or lot is None or lot.reminded:
            return None
        left = _left_in(lots, int(profile.lots_consumed), lot_key)
        if left <= 0:
            return None
        tx = Transaction()
        not_reminded = PointLot.reminded.does_not_exist() | (PointLot.reminded == False)  # noqa: E712
        tx.update("lot", lot, [PointLot.reminded.set(True)], not_reminded & (PointLot.points == int(lot.points)))
        tx.put("event", outbox_event(self.tenant, lot.PK, "points.expiring_soon",
                                     {"memberId": member_id, "points": left, "expiresOn": lot.expires_on},
                                     now.isoformat(), int(now.timestamp())))
        return tx, left

    # -- pending -> available ----------------------------------------------------------------------
    def release_due(self, now: datetime) -> JobReport:
        report = JobReport("release", self.tenant)
        program = self.programs.program()

        def attempt(record: OrderRecord) -> tuple[Transaction, int] | None:
            if record.status != "PENDING" or datetime.fromisoformat(record.release_at) > now:
                return None
            profile, _lots = self._card(record.member_id)
            if profile is None:
                return None
            known = profile_balance(profile)
            points = int(record.pending_points)
            tx = Transaction()
            tx.update("order", record, [OrderRecord.status.set("RELEASED"), OrderRecord.GSI2PK.remove(),
                                        OrderRecord.GSI2SK.remove(), OrderRecord.version.add(1)],
                      (OrderRecord.version == record.version) & (OrderRecord.status == "PENDING"))
            if record.earn_entry:
                tx.update("earn-entry", LedgerEntry(record.PK, record.earn_entry),
                          [LedgerEntry.status.set(EntryStatus.POSTED.value)])
            if points:
                MemberLedger(self.tenant, record.member_id, now, program).add(
                    tx, Change(release(known, points), EntryType.EARN, activity=False, event="points.released",
                               event_detail={"orderId": record.order_id}), known)
            return tx, points

        def settle(item: OrderRecord | PostItem) -> None:
            # The index's copy of the order first: every change to an order adds to its version and the
            # commit is conditioned on that version, so a stale copy only fails the condition. After a
            # failed condition, the order as it is now. Held posts (infra/posts) share the index and the rule.
            copies = iter([item])
            kind = type(item)

            def current() -> Any:
                return next(copies, None) or call(
                    lambda: kind.get(item.PK, item.SK, consistent_read=True), what="due record")

            if isinstance(item, PostItem):
                self._settle(report, f"post {item.SK}", lambda: release_attempt(self.tenant, program, current(), now))
                return
            self._settle(report, f"order {item.SK}", lambda: attempt(current()))

        return self._walk(report, "RELEASE", now, settle, kind=(OrderRecord, PostItem))

    # -- lots that reach their expiry date -------------------------------------------------------------
    def expire_due(self, now: datetime) -> JobReport:
        report = JobReport("expire", self.tenant)
        program = self.programs.program()

        def settle(item: PointLot) -> None:
            self._settle(report, f"lot {item.SK}",
                         lambda: self._expire_lot(keys.member_of(item.PK), item.SK, now, program))

        return self._walk(report, "EXPIRE", now, settle, kind=PointLot)

    # -- everything, after months without activity -----------------------------------------------------
    def expire_inactive(self, now: datetime) -> JobReport:
        """Members whose last activity is N months past lose every available point. First, after a switch
        to this rule, the marking pass (`_marking_pass`); then the due index. One lease covers both."""
        report = JobReport("inactivity", self.tenant)
        program = self.programs.program()
        if program.expiry_mode is not ExpiryMode.AFTER_INACTIVITY:
            report.note = "the program does not expire points after inactivity"
            return report

        def settle(item: MemberProfile) -> None:
            expired = [0]  # points of the member's chunks committed before its last transaction
            self._settle(report, f"member {item.member_id}",
                         lambda: self._expire_inactive_member(item.member_id, now, program, expired))

        started = time.monotonic()
        with self._leased(report) as (go, lease):
            if go and self._marking_pass(report, now, program, lease):
                self._pages(report, due_listing(self.tenant, "INACTIVE", now), Cursor(self.tenant, report.job),
                            settle, MemberProfile, lease)
        report.seconds = round(time.monotonic() - started, 3)
        return report

    # -- birthday points ------------------------------------------------------------------------------
    def birthdays(self, now: datetime) -> JobReport:
        """Credit the `birthday` action rule, once a year, to members whose birthday is today on the brand's
        calendar. Run once a day at any fixed hour, it meets every local day exactly once."""
        report = JobReport("birthdays", self.tenant)
        program = self.programs.program()
        rule = any(r.action == BIRTHDAY for r in program.actions)
        gifts = tier_birthday.gifts_exist(self.programs, now)  # the tiers' BIRTHDAY_GIFT benefits
        if not rule and not gifts:
            return report
        today = program.local_time(now)
        credits = ActionCredits(self.tenant, self.programs, OrderBook(self.tenant, self.programs))
        members = Members(self.tenant)
        started = time.monotonic()
        # No due index and no cursor: a day's list is small (a 365th of the members), and a member
        # credited already is skipped by the credit's own source mark, so running the same day again
        # (after a stop or a failure) finishes the rest.
        with self._leased(report) as (go, _lease):
            for member_id in (m for day in birthday_days(today) for m in members.birthdays_on(day)) if go else ():
                if self.budget.exhausted():
                    report.complete, report.note = False, "budget spent"
                    break
                report.seen += 1
                try:
                    points = 0
                    if rule:
                        try:
                            points += credits.record(member_id, BIRTHDAY, str(today.year), now)
                        except UserError:
                            pass  # credited already this year, or capped
                    if gifts:
                        points += tier_birthday.credit_birthday_gift(self.tenant, self.programs, member_id,
                                                                     today.year, now)
                    if not points:
                        report.skipped += 1
                        continue
                    report.points += points
                except Exception as e:  # one member's failure must not stop the others
                    report.fail(member_id, keys.birthday_pk(self.tenant, today.strftime("%m-%d")), _reason(e))
                    log.error("job birthdays for %s: member %s failed: %s; run the day again to retry",
                              self.tenant, member_id, _reason(e),
                              exc_info=not isinstance(e, (RetryLater, TransactionCancelled)))
                    continue
                report.processed += 1
                report.settled(member_id)
        report.seconds = round(time.monotonic() - started, 3)
        return report

    # -- "your points expire soon" -------------------------------------------------------------------
    def remind_expiring(self, now: datetime) -> JobReport:
        report = JobReport("remind", self.tenant)
        program = self.programs.program()
        horizon = now + timedelta(days=program.expiring_soon_days)

        def remind(item: PointLot) -> None:
            if item.reminded:
                return
            self._settle(report, f"lot {item.SK}", lambda: self._remind_lot(keys.member_of(item.PK), item.SK, now))

        # Reminded lots stay in the EXPIRE index until they expire, so each pass reads the whole reminder
        # window again; they are passed over from the index item alone, without reading the member.
        return self._walk(report, "EXPIRE", horizon, remind, kind=PointLot, since=now)
