"""The lifecycle's scheduled job `lapse`: members due (GSI2 `T#t#DUE#LAPSE`, oldest due first, on the points
jobs' walk: pages of `page_size`, budget, cursor, lease; never a Scan) are marked lapsed once when the
program's `lapse_after_days` says so, or moved to their true due day when it is longer than when their
due day was written. With lapsing off the job reads nothing."""
from __future__ import annotations

from datetime import datetime

from infra.lifecycle.standing import LAPSE_DUE, Standings, StandingItem
from infra.points.jobs import JobReport, PointsJobs

LAPSE_JOB = "lapse"


def lapse_members(jobs: PointsJobs, now: datetime) -> JobReport:
    report = JobReport(LAPSE_JOB, jobs.tenant)
    days = jobs.programs.program().lifecycle.lapse_after_days
    if days is None:
        report.note = "lapsing is off (lifecycleSettingsSet lapseAfterDays)"
        return report
    standings = Standings(jobs.tenant)

    def settle(item: StandingItem) -> None:
        if standings.lapse_if_due(item, days, now) is None:
            report.skipped += 1
            return
        report.processed += 1
        report.settled(item.member_id)

    return jobs._walk(report, LAPSE_DUE, now, settle, kind=StandingItem)
