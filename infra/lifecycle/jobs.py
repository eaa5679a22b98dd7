"""The lifecycle's scheduled jobs.

`anniversaries`: members whose next membership anniversary has begun on the brand's calendar (GSI2
`T#t#DUE#ANNIV`, on the same walk) get each anniversary reached and not yet rewarded (a job that did not
run for a while catches up), once each (the source mark), then their next one's day.

`lapse`: members due (GSI2 `T#t#DUE#LAPSE`, oldest due first, on the points
jobs' walk: pages of `page_size`, budget, cursor, lease; never a Scan) are marked lapsed once when the
program's `lapse_after_days` says so, or moved to their true due day when it is longer than when their
due day was written. With lapsing off the job reads nothing."""
from __future__ import annotations

from datetime import date, datetime

from domain.lifecycle.anniversaries import anniversaries_reached
from infra.dynamo_errors import Kind, call, classify
from infra.lifecycle.rewards import ANNIVERSARY_DUE, AnniversaryItem, anniversary_item, reward_once
from infra.lifecycle.standing import LAPSE_DUE, Standings, StandingItem
from infra.points.jobs import JobReport, PointsJobs

LAPSE_JOB = "lapse"
ANNIVERSARY_JOB = "anniversaries"


def reward_anniversaries(jobs: PointsJobs, now: datetime) -> JobReport:
    report = JobReport(ANNIVERSARY_JOB, jobs.tenant)
    program = jobs.programs.program()
    today = program.local_time(now).date()

    def settle(item: AnniversaryItem) -> None:
        joined = date.fromisoformat(item.joined_day)
        done = int(item.years_done or 0)
        due = [m for m in anniversaries_reached(joined, today) if m.count > done]
        if not due:
            report.skipped += 1
            return
        for milestone in due:
            if reward_once(jobs.tenant, item.member_id, milestone, program.lifecycle.anniversary_points, program, now):
                report.points += program.lifecycle.anniversary_points
        nxt = anniversary_item(jobs.tenant, item.member_id, joined, due[-1].count, program)
        try:
            call(lambda: nxt.save(AnniversaryItem.years_done == done), what="anniversary")
        except Exception as e:
            if classify(e) is not Kind.CONDITIONAL:
                raise  # a run meanwhile moved it on: its save stands, and the rewards were once each anyway
        report.processed += 1
        report.settled(item.member_id)

    return jobs._walk(report, ANNIVERSARY_DUE, now, settle, kind=AnniversaryItem)


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
