"""Scheduled jobs as Lambda handlers, and the same jobs from a command line with an injected clock.

    python -m api.jobs release --now 2026-12-24T00:00:00Z [--tenant demo] [--budget-seconds 600]
    python -m api.jobs all

The local CLI reads the same environment as the API (KIZUNA_TABLE, KIZUNA_DYNAMODB_ENDPOINT, ...).

Each run works member by member (infra/points/jobs.py): one member's failure is reported and that member
stays due for a later run, while the others proceed. How an operator sees it:

- one log line at ERROR per failed member: job, tenant, member id, the due item and the reason;
- one summary line per job and tenant, `job summary {...}` with counts (processed, skipped, failed),
  `complete` and the seconds taken; at ERROR when anything failed, else INFO. On Lambda the summary is
  also printed as a CloudWatch Embedded Metric Format line, which becomes the metrics
  Kizuna/Jobs `MembersFailed`, `MembersProcessed` and `Incomplete` per job with no further set-up:
  alarm on `MembersFailed > 0` for a few runs in a row;
- the CLI prints every report as JSON after finishing what it could, and exits 1 when any member or
  job failed; the Lambda handlers return the reports (with `failed` and the failures) and never raise
  for a member's failure, so the scheduler does not retry the whole run.

A run stops starting new members when its budget is spent: on Lambda, RESERVE_SECONDS before the
invocation's timeout (`context.get_remaining_time_in_millis()`), or `budgetSeconds` in the event;
from the CLI, `--budget-seconds` (no limit by default). The next run continues where it stopped.
"""
from __future__ import annotations

import argparse
import json
import logging
import sys
import time
from dataclasses import asdict
from datetime import datetime, timezone
from typing import Any, Callable

from api.settings import Settings, from_env
from infra.items import bind_table
from infra.jobs_state import Budget
from infra.points.jobs import JobReport, PointsJobs
from infra.points.program_store import ProgramCache, ProgramStore
from infra.tiers.jobs import TierJobs, TierRecalculation
from infra.badges.jobs import badge_backfill
from infra.events_out.outlet import Outlet, outlet_from
from infra.events_out.retry_job import retry_deliveries
from infra.lifecycle.jobs import backfill as lifecycle_backfill, lapse_members, reward_anniversaries
from infra.vip_events import jobs as vip_jobs

log = logging.getLogger("kizuna.jobs")

JOBS: dict[str, Callable[[PointsJobs, datetime], JobReport]] = {
    "release": PointsJobs.release_due,  # pending -> available when return windows close
    "expire": PointsJobs.expire_due,  # lots past their expiry date
    "inactivity": PointsJobs.expire_inactive,  # everything, after months without activity
    "remind": PointsJobs.remind_expiring,  # "points expiring soon" events
    "birthdays": PointsJobs.birthdays,  # the birthday action rule, once a year
    "tiers": TierJobs.evaluate_due,  # period ends, grace and staff tiers ending, tier-at-risk notices
    "tier-recalculation": TierRecalculation.run,  # a ladder applied at once, when staff asked for it
    "badges": badge_backfill,  # badges owed to members who already qualify (after badgeSave)
    "vip-no-shows": vip_jobs.no_shows,  # confirmed and never checked in, once an event has ended
    "vip-cancellations": vip_jobs.cancellations,  # a cancelled event's registrations, refunded a chunk at a time
    "vip-offers": vip_jobs.offers,  # held seats whose time passed go to the next on the waitlist
    "webhook-retries": retry_deliveries,  # webhook deliveries due for another attempt
    "lifecycle-backfill": lifecycle_backfill,  # members from before the lifecycle: standing and anniversaries, once
    "lapse": lapse_members,  # members without qualifying activity for the program's days: marked lapsed
    "anniversaries": reward_anniversaries,  # membership anniversaries, each rewarded once
}


class TenantJobs(TierRecalculation):
    """Every job of one tenant on one object (the tier jobs extend the points jobs' walk)."""

    outlet: Outlet | None = None  # where the webhook retries send (the settings' network rules)


# Time kept back from a Lambda invocation's timeout: the member in hand (a member with a thousand lots
# is a dozen transactions, each retried within 1.5 s), the cursor, the lease and the report.
RESERVE_SECONDS = 120.0
METRICS_NAMESPACE = "Kizuna/Jobs"


def run(settings: Settings, job: str, now: datetime, tenants: list[str] | None = None, *,
        budget: Budget | None = None, page_size: int | None = None) -> list[JobReport]:
    """Every job named (or all) for every tenant, sharing one budget. A job that cannot run at all for
    one tenant (its program unreadable, say) is reported and the others still run."""
    cache = ProgramCache(settings.program_cache_seconds)
    names = list(JOBS) if job == "all" else [job]
    budget = budget or Budget()
    outlet = outlet_from(settings)
    reports = []
    for tenant in tenants or settings.tenants:
        options: dict[str, Any] = {"page_size": page_size} if page_size else {}
        jobs = TenantJobs(tenant, ProgramStore(tenant, cache), budget=budget, **options)
        jobs.outlet = outlet
        for name in names:
            started = time.monotonic()
            try:
                report = JOBS[name](jobs, now)
            except Exception as e:
                report = JobReport(name, tenant, complete=False, error=f"{type(e).__name__}: {e}"[:300],
                                   seconds=round(time.monotonic() - started, 3))
                log.exception("job %s for %s could not run", name, tenant)
            _log_summary(report)
            reports.append(report)
    return reports


def summary(report: JobReport) -> dict[str, Any]:
    return {"job": report.job, "tenant": report.tenant, "processed": report.processed, "skipped": report.skipped,
            "failed": report.failed, "points": report.points, "seen": report.seen, "pages": report.pages,
            "listed": report.listed, "marked": report.marked, "complete": report.complete, "resumed": report.resumed, "seconds": report.seconds,
            "error": report.error, "note": report.note}


def _log_summary(report: JobReport) -> None:
    log.log(logging.INFO if report.ok else logging.ERROR, "job summary %s", json.dumps(summary(report)))


def metrics_line(report: JobReport, at: datetime) -> str:
    """The summary as a CloudWatch Embedded Metric Format document: printed on one line to a Lambda's
    stdout, CloudWatch turns it into metrics (dimension: the job) and keeps it as a log line."""
    names = {"MembersFailed": report.failed, "MembersProcessed": report.processed,
             "Incomplete": 0 if report.complete else 1, "JobErrors": 0 if report.error is None else 1}
    document = {
        "_aws": {"Timestamp": int(at.timestamp() * 1000), "CloudWatchMetrics": [{
            "Namespace": METRICS_NAMESPACE, "Dimensions": [["Job"]],
            "Metrics": [{"Name": name, "Unit": "Count"} for name in names]}]},
        "Job": report.job, **names, **summary(report)}
    return json.dumps(document)


def lambda_budget(event: dict, context: Any) -> Budget:
    """The invocation's budget: `budgetSeconds` from the event if given, else the context's remaining
    time less RESERVE_SECONDS; without either (a test calling the handler), no limit."""
    if event.get("budgetSeconds") is not None:
        return Budget.seconds(float(event["budgetSeconds"]))
    remaining = getattr(context, "get_remaining_time_in_millis", None)
    if remaining is None:
        return Budget()
    return Budget(lambda: remaining() / 1000 - RESERVE_SECONDS)


_bound: Settings | None = None


def _settings() -> Settings:
    """Built once per container, like the API's services."""
    global _bound
    if _bound is None:
        _bound = from_env()
        bind_table(_bound.table_name, region=_bound.region, host=_bound.dynamodb_endpoint)
    return _bound


def _handler(job: str) -> Callable[[dict, Any], dict]:
    def handle(event: dict, context: Any) -> dict:
        now = datetime.fromisoformat(event["now"]) if event.get("now") else datetime.now(timezone.utc)
        reports = run(_settings(), job, now, event.get("tenants"), budget=lambda_budget(event, context))
        for report in reports:
            print(metrics_line(report, datetime.now(timezone.utc)), flush=True)
        return {"job": job, "now": now.isoformat(), "ok": all(r.ok for r in reports),
                "complete": all(r.complete for r in reports), "failed": sum(r.failed for r in reports),
                "reports": [asdict(r) for r in reports]}

    return handle


release_pending = _handler("release")
expire_points = _handler("expire")
expire_inactive = _handler("inactivity")
remind_expiring = _handler("remind")
credit_birthdays = _handler("birthdays")
evaluate_tiers = _handler("tiers")
recalculate_tiers = _handler("tier-recalculation")
backfill_badges = _handler("badges")
mark_vip_no_shows = _handler("vip-no-shows")
finish_vip_cancellations = _handler("vip-cancellations")
pass_vip_offers = _handler("vip-offers")
retry_webhooks = _handler("webhook-retries")
mark_lapsed_members = _handler("lapse")
backfill_lifecycle = _handler("lifecycle-backfill")
reward_anniversaries_daily = _handler("anniversaries")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="Run Kizuna's scheduled points jobs once.")
    parser.add_argument("job", choices=[*JOBS, "all"])
    parser.add_argument("--now", help="ISO timestamp with zone; defaults to the current time")
    parser.add_argument("--tenant", action="append", help="limit to this tenant (repeatable)")
    parser.add_argument("--budget-seconds", type=float,
                        help="stop starting new members after this many seconds (default: no limit); "
                             "the next run continues where this one stopped")
    parser.add_argument("--page-size", type=int, help="due items per Query (default 100)")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    now = datetime.fromisoformat(args.now.replace("Z", "+00:00")) if args.now else datetime.now(timezone.utc)
    if now.tzinfo is None:
        parser.error("--now needs a time zone, e.g. 2026-12-24T00:00:00Z")
    if args.budget_seconds is not None and args.budget_seconds <= 0:
        parser.error("--budget-seconds must be positive")
    if args.page_size is not None and not 1 <= args.page_size <= 1000:
        parser.error("--page-size must be 1-1000")
    budget = Budget.seconds(args.budget_seconds) if args.budget_seconds is not None else None
    reports = run(_settings(), args.job, now, args.tenant, budget=budget, page_size=args.page_size)
    print(json.dumps([asdict(r) for r in reports], indent=2))
    if not all(r.ok for r in reports):
        sys.exit(1)


if __name__ == "__main__":
    main()
