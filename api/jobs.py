"""Scheduled jobs as Lambda handlers, and the same jobs from a command line with an injected clock.

    python -m api.jobs release --now 2026-12-24T00:00:00Z [--tenant demo]
    python -m api.jobs all

The local CLI reads the same environment as the API (KIZUNA_TABLE, KIZUNA_DYNAMODB_ENDPOINT, ...).
"""
from __future__ import annotations

import argparse
import json
import logging
from dataclasses import asdict
from datetime import datetime, timezone
from typing import Any, Callable

from api.settings import Settings, from_env
from infra.items import bind_table
from infra.points.jobs import JobReport, PointsJobs
from infra.points.program_store import ProgramCache, ProgramStore

log = logging.getLogger("kizuna.jobs")

JOBS: dict[str, Callable[[PointsJobs, datetime], JobReport]] = {
    "release": PointsJobs.release_due,  # pending -> available when return windows close
    "expire": PointsJobs.expire_due,  # lots past their expiry date
    "inactivity": PointsJobs.expire_inactive,  # everything, after months without activity
    "remind": PointsJobs.remind_expiring,  # "points expiring soon" events
    "birthdays": PointsJobs.birthdays,  # the birthday action rule, once a year
}


def run(settings: Settings, job: str, now: datetime, tenants: list[str] | None = None) -> list[JobReport]:
    cache = ProgramCache(settings.program_cache_seconds)
    names = list(JOBS) if job == "all" else [job]
    reports = []
    for tenant in tenants or settings.tenants:
        jobs = PointsJobs(tenant, ProgramStore(tenant, cache))
        for name in names:
            report = JOBS[name](jobs, now)
            log.info("job %s for %s: %s", name, tenant, asdict(report))
            reports.append(report)
    return reports


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
        reports = run(_settings(), job, now, event.get("tenants"))
        return {"job": job, "now": now.isoformat(), "reports": [asdict(r) for r in reports]}

    return handle


release_pending = _handler("release")
expire_points = _handler("expire")
expire_inactive = _handler("inactivity")
remind_expiring = _handler("remind")
credit_birthdays = _handler("birthdays")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="Run Kizuna's scheduled points jobs once.")
    parser.add_argument("job", choices=[*JOBS, "all"])
    parser.add_argument("--now", help="ISO timestamp with zone; defaults to the current time")
    parser.add_argument("--tenant", action="append", help="limit to this tenant (repeatable)")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    now = datetime.fromisoformat(args.now.replace("Z", "+00:00")) if args.now else datetime.now(timezone.utc)
    if now.tzinfo is None:
        parser.error("--now needs a time zone, e.g. 2026-12-24T00:00:00Z")
    reports = run(_settings(), args.job, now, args.tenant)
    print(json.dumps([asdict(r) for r in reports], indent=2))


if __name__ == "__main__":
    main()
