"""The VIP events' scheduled jobs, on the points jobs' walk (infra/points/jobs.py: pages, budget, cursor,
lease, one report; each registration settled on its own, a failure reported and the walk going on):

- `vip-no-shows`: events whose end has passed (GSI2 `T#t#DUE#VIPNOSHOW` / `<endsAt>#<event>`, written with
  the event), each one's registrations walked in pages (a Query of `REG#` in the event's partition, its
  place kept in the job's cursor), every unchecked CONFIRMED one made a NO_SHOW (infra/vip_events/no_shows.py).
  An event leaves the index when a walk of it ended with none failed.
- `vip-cancellations`: cancelled events whose registrations are still to be ended and refunded (GSI2
  `T#t#DUE#VIPCANCEL`), continued from the cursor where the mutation's first chunk (or the last run)
  stopped (infra/vip_events/cancellation.py).
- `vip-offers`: offers whose hold has passed go to the next member on the waitlist (infra/vip_events/offers.py).

Each run is bounded by its time budget and, for the refund walk, by `chunk` registrations read per
invocation, so an event of thousands of registrations is finished over several runs, each resuming where
the last stopped; every change is conditioned on the registration's state, so a rerun never repeats one.
"""
from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Callable

from domain.vip_events.model import EventStatus
from infra import keys
from infra.dynamo_errors import Kind, call, classify
from infra.items import TableItem
from infra.jobs_state import Budget, Cursor, Lease
from infra.points.jobs import ATTEMPTS, JobReport, KeptChanging, Listing, PointsJobs, due_listing
from infra.transaction import TransactionCancelled
from infra.vip_events import offers as offer_rules
from infra.vip_events.cancellation import EventCancellation
from infra.vip_events.items import RegistrationItem, VipEventItem
from infra.vip_events.no_shows import NoShows

NO_SHOW_JOB = "vip-no-shows"
CANCEL_JOB = "vip-cancellations"
OFFER_JOB = "vip-offers"
CHUNK = 200  # registrations read per invocation of the refund walk (each at most one transaction)
FIRST_CHUNK = 25  # what `vipEventCancel` itself ends before answering (a request stays short)


@dataclass(frozen=True)
class Registrations(Listing):
    """An event's registrations in key order, read consistently (a registration made just before the
    event was cancelled is not missed)."""

    def page(self, start: dict[str, Any] | None, page_size: int) -> tuple[list[dict], dict | None]:
        connection = TableItem._get_connection()
        data = call(lambda: connection.query(self.partition, range_key_condition=self.condition, limit=page_size,
                                             exclusive_start_key=start, consistent_read=True),
                    what="VIP registrations page")
        return data.get("Items", []), data.get("LastEvaluatedKey")


def registrations(event_pk: str) -> Registrations:
    low, high = keys.REGISTRATION_PREFIX, f"{keys.REGISTRATION_PREFIX}~"
    return Registrations(None, event_pk, TableItem.SK.startswith(keys.REGISTRATION_PREFIX), low, high,  # type: ignore[arg-type]
                         event_pk, ("PK", "SK"))


class VipEventJobs(PointsJobs):
    """`chunk`: registrations the refund walk reads per invocation (the mutation's first chunk too)."""

    def __init__(self, *args: Any, chunk: int = CHUNK, **kw: Any):
        super().__init__(*args, **kw)
        self.chunk = chunk

    @classmethod
    def of(cls, jobs: PointsJobs, chunk: int = CHUNK) -> "VipEventJobs":
        return cls(jobs.tenant, jobs.programs, budget=jobs.budget, page_size=jobs.page_size, lease=jobs.lease,
                   lease_seconds=jobs.lease_seconds, chunk=chunk)

    # -- no-shows --------------------------------------------------------------------------------------
    def no_shows(self, now: datetime) -> JobReport:
        report = JobReport(NO_SHOW_JOB, self.tenant)
        marking = NoShows(self.tenant, self.programs)

        def event_done(event: VipEventItem, lease: Lease | None) -> str:
            if event.status == EventStatus.CANCELLED.value:
                return "end"  # the cancellation ends its registrations; only the mark goes
            return self._registrations(report, event, NO_SHOW_JOB, lambda reg: marking.mark(event, reg, now), lease)

        return self._events(report, keys.VIP_NO_SHOW_DUE, now, event_done, self._unmark)

    def _unmark(self, event: VipEventItem) -> None:
        """The event leaves the no-show index (unless its mark moved: an edit of its end)."""
        E = VipEventItem
        try:
            call(lambda: E(event.PK, event.SK).update([E.GSI2PK.remove(), E.GSI2SK.remove()],
                                                      condition=E.GSI2SK == event.GSI2SK,
                                                      add_version_condition=False), what="VIP event no-show mark")
        except Exception as e:
            if classify(e) is not Kind.CONDITIONAL:
                raise

    # -- cancelled events: the refund walk ---------------------------------------------------------------
    def cancellations(self, now: datetime) -> JobReport:
        report = JobReport(CANCEL_JOB, self.tenant)
        desk = EventCancellation(self.tenant, self.programs)
        limit = self._chunked(report)

        def event_done(event: VipEventItem, lease: Lease | None) -> str:
            return self._registrations(report, event, CANCEL_JOB, lambda reg: desk.end(event, reg, now), lease)

        with limit:
            return self._events(report, keys.VIP_CANCEL_DUE, now, event_done, desk.done)

    def refund_chunk(self, event_id: str, now: datetime) -> JobReport:
        """The first chunk, right after the event was cancelled (no lease: every change is conditioned,
        and the job may be walking another event meanwhile)."""
        report = JobReport(CANCEL_JOB, self.tenant)
        desk = EventCancellation(self.tenant, self.programs)
        started = time.monotonic()
        event = self.event_item(event_id)
        with self._chunked(report):
            failed = report.failed
            status = self._registrations(report, event, CANCEL_JOB, lambda reg: desk.end(event, reg, now), None)
            if status == "end" and report.failed == failed:
                desk.done(event)
        report.seconds = round(time.monotonic() - started, 3)
        return report

    def event_item(self, event_id: str) -> VipEventItem:
        return call(lambda: VipEventItem.get(keys.vip_event_pk(self.tenant, event_id), keys.VIP_EVENT_SK,
                                             consistent_read=True), what="VIP event")

    def _chunked(self, report: JobReport) -> "_Limit":
        return _Limit(self, report)

    # -- the two-level walk: due events, then each one's registrations -----------------------------------
    def _events(self, report: JobReport, due: str, now: datetime,
                walk: Callable[[VipEventItem, Lease | None], str], finish: Callable[[VipEventItem], Any]) -> JobReport:
        """Every event due by `now` in the index `due`, oldest first; an event whose walk ended with none
        of its registrations failed is finished (`finish`: it leaves the index). Stops, keeping the
        registration walk's place, when the budget or the lease says so."""
        started = time.monotonic()
        listing = due_listing(self.tenant, due, now)
        with self._leased(report) as (go, lease):
            start = None
            while go:
                try:
                    raws, start = listing.page(start, self.page_size)
                except Exception as e:
                    report.error, report.complete = f"due index unreadable: {type(e).__name__}", False
                    break
                report.pages += 1
                stop = False
                for raw in raws:
                    item = TableItem.from_raw_data(raw)
                    if not isinstance(item, VipEventItem):
                        continue
                    failed = report.failed
                    status = walk(item, lease)
                    if status == "end" and report.failed == failed:
                        finish(item)
                    elif status != "end":
                        stop = True
                        break
                if stop or not start:
                    break
        report.seconds = round(time.monotonic() - started, 3)
        return report

    def _registrations(self, report: JobReport, event: VipEventItem, job: str,
                       change: Callable[[RegistrationItem], Any], lease: Lease | None) -> str:
        """Walk one event's registrations from the job's cursor; `change(reg)` returns what it did (None:
        nothing to do) or raises TransactionCancelled when the registration moved (read again)."""

        def settle(listed: RegistrationItem) -> None:
            copies = iter([listed])
            for _ in range(ATTEMPTS):
                reg = next(copies, None) or call(lambda: RegistrationItem.get(listed.PK, listed.SK, consistent_read=True),
                                                 what="VIP registration")
                try:
                    done = change(reg)
                except TransactionCancelled as c:
                    if c.failed_on("registration") or c.failed_on("stats"):
                        continue
                    raise
                if done is None:
                    report.skipped += 1
                else:
                    report.processed += 1
                    report.points += int(getattr(done, "points", 0) or 0)
                return
            raise KeptChanging(f"registration {listed.SK} kept changing")

        return self._pages(report, registrations(event.PK), Cursor(self.tenant, job), settle, RegistrationItem, lease)


class _Limit:
    """Bounds the refund walk of one invocation to `chunk` registrations read, on top of the time budget."""

    def __init__(self, jobs: VipEventJobs, report: JobReport):
        self.jobs, self.report = jobs, report

    def __enter__(self) -> "_Limit":
        outer, report, chunk = self.jobs.budget, self.report, self.jobs.chunk
        self.saved = outer
        self.jobs.budget = Budget(lambda: min(outer.left(), chunk - report.seen))
        return self

    def __exit__(self, *exc: Any) -> None:
        self.jobs.budget = self.saved


# -- for api/jobs.py's JOBS ------------------------------------------------------------------------------

def no_shows(jobs: PointsJobs, now: datetime) -> JobReport:
    return VipEventJobs.of(jobs).no_shows(now)


def cancellations(jobs: PointsJobs, now: datetime) -> JobReport:
    return VipEventJobs.of(jobs).cancellations(now)


def offers(jobs: PointsJobs, now: datetime) -> JobReport:
    return offer_rules.pass_expired_offers(jobs, now)
