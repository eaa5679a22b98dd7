"""The lifecycle's scheduled jobs.

`anniversaries`: members whose next membership anniversary has begun on the brand's calendar (GSI2
`T#t#DUE#ANNIV`, on the same walk) get each anniversary reached and not yet rewarded (a job that did not
run for a while catches up), once each (the source mark), then their next one's day.

`lifecycle-backfill`: members who joined before the lifecycle existed have no standing and no anniversary
due day; one walk of the members list (GSI1 `T#t#MEMBERS`, pages, budget, cursor) writes both where
missing (their last activity as the profile says; anniversaries already passed count as done, so a
backfill rewards none of them), then records that it is done, after which a run reads one item.

`lapse`: members due (GSI2 `T#t#DUE#LAPSE`, oldest due first, on the points
jobs' walk: pages of `page_size`, budget, cursor, lease; never a Scan) are marked lapsed once when the
program's `lapse_after_days` says so, or moved to their true due day when it is longer than when their
due day was written. With lapsing off the job reads nothing."""
from __future__ import annotations

import time
from datetime import date, datetime

from pynamodb.attributes import UnicodeAttribute

from domain.lifecycle.anniversaries import anniversaries_reached, years_completed
from infra import keys
from infra.dynamo_errors import call, conditional
from infra.items import MemberProfile, TableItem
from infra.jobs_state import Cursor
from infra.lifecycle.rewards import ANNIVERSARY_DUE, AnniversaryItem, anniversary_item, reward_once
from infra.lifecycle.standing import LAPSE_DUE, Standings, StandingItem
from infra.points.jobs import JobReport, Listing, PointsJobs
from infra.table import LOOKUP_INDEX

LAPSE_JOB = "lapse"
ANNIVERSARY_JOB = "anniversaries"
BACKFILL_JOB = "lifecycle-backfill"
BACKFILL_DONE_SK = "DONE"


class BackfillDone(TableItem, discriminator="life-backfill-done"):
    done_at = UnicodeAttribute(attr_name="doneAt")


def backfill(jobs: PointsJobs, now: datetime) -> JobReport:
    report = JobReport(BACKFILL_JOB, jobs.tenant)
    done_pk = f"T#{jobs.tenant}#JOB#{BACKFILL_JOB}"
    try:
        call(lambda: BackfillDone.get(done_pk, BACKFILL_DONE_SK, consistent_read=True), what="backfill state")
        report.note = "done before"
        return report
    except BackfillDone.DoesNotExist:
        pass
    program = jobs.programs.program()
    standings = Standings(jobs.tenant)
    members = keys.members_list_pk(jobs.tenant)
    listing = Listing(LOOKUP_INDEX, members, None, None, None, f"{members}@lifecycle",
                      ("GSI1PK", "GSI1SK", "PK", "SK"))

    def settle(profile: MemberProfile) -> None:
        last = datetime.fromisoformat(profile.last_activity_at or profile.joined_at)
        joined = program.local_time(datetime.fromisoformat(profile.joined_at)).date()
        wrote = standings.start(profile.member_id, last, program.lifecycle.lapse_after_days)
        item = anniversary_item(jobs.tenant, profile.member_id, joined,
                                years_completed(joined, program.local_time(now).date()), program)
        wrote = conditional(lambda: item.save(AnniversaryItem.PK.does_not_exist()), what="anniversary") or wrote
        if wrote:
            report.processed += 1
        else:
            report.skipped += 1

    started = time.monotonic()
    with jobs._leased(report) as (go, lease):
        if go:
            status = jobs._pages(report, listing, Cursor(jobs.tenant, BACKFILL_JOB), settle, MemberProfile, lease)
            if status == "end" and report.failed == 0:
                call(lambda: BackfillDone(done_pk, BACKFILL_DONE_SK, done_at=now.isoformat()).save(),
                     what="backfill state")
    report.seconds = round(time.monotonic() - started, 3)
    return report


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
        # A run meanwhile moved it on: its save stands, and the rewards were once each anyway.
        conditional(lambda: nxt.save(AnniversaryItem.years_done == done), what="anniversary")
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
