"""The badge backfill: a badge defined (or made available, or asking less) after members already
qualify reaches them, once, dated when each qualified.

`badgeSave` writes the pass (`T#t#JOB#badge-backfill / PASS`: the badges owed and when) in the transaction
of the definition. The next run, once the program cache has expired everywhere (from then on every
container's listener knows the badge, and awards it at a member's next event), walks the members list
(GSI1 `MEMBERS`, pages, the run's budget, its own cursor, under the job's lease, each member on its own:
as the inactivity job's marking pass does, infra/points/jobs.py), reads each member's dashboard (one Query:
counters and badges held), and for each owed badge the member meets and does not hold commits, in one
transaction per member: the awards (`attribute_not_exists`, so a listener awarding the same badge at the
same moment makes one of them fail and re-read), dated by the counters' dating rule (the time the
threshold was crossed; never before the badge's `availableFrom`), their bonus points as one ledger credit
(one `SRC#badge:<id>` mark each), and ONE `badge.backfilled` event per member per run naming every badge it
got: a member is notified once, not once per badge. A walk with a failed member walks again once; the pass
is removed when a walk ends clean and no newer save replaced it.
"""
from __future__ import annotations

import time
from datetime import datetime, timedelta

from domain.badges import criteria
from domain.badges.definitions import Badge
from domain.points.balance import Balance
from infra import keys
from infra.badges.items import BACKFILL_JOB, PASS_SK, BadgePass
from infra.dynamo_errors import call
from infra.items import MemberProfile, TableItem
from infra.jobs_state import Cursor
from infra.members import outbox_event
from infra.points.jobs import ATTEMPTS, JobReport, KeptChanging, Listing, PointsJobs, _upto
from infra.points.ledger import MemberLedger, post
from infra.progress.catalog import catalog
from infra.progress.listener import card, counters_of, held_of
from infra.progress.rewards import Award, add_rewards
from infra.table import LOOKUP_INDEX
from infra.transaction import Transaction, TransactionCancelled

JOB = "badges"
AWARDS_PER_TRANSACTION = 30  # 2 items each (award, source mark), the ledger's 4 and the summary event


class BadgeJobs(PointsJobs):
    """Runs on the points jobs' walk (pages, budget, cursor, lease, report)."""

    @classmethod
    def of(cls, jobs: PointsJobs) -> "BadgeJobs":
        return cls(jobs.tenant, jobs.programs, budget=jobs.budget, page_size=jobs.page_size, lease=jobs.lease,
                   lease_seconds=jobs.lease_seconds)

    def backfill(self, now: datetime) -> JobReport:
        report = JobReport(JOB, self.tenant)
        owed = self._owed()
        if owed is None:
            report.note = "no badge is owed a backfill"
            return report
        settled = datetime.fromisoformat(owed.since) + timedelta(seconds=self.programs.cache.ttl)
        if now < settled:
            report.note = "the backfill waits for the badge to reach every container"
            return report
        started = time.monotonic()
        members = keys.members_list_pk(self.tenant)
        listing = Listing(LOOKUP_INDEX, members, TableItem.GSI1SK <= _upto(settled), None, _upto(settled),
                          f"{members}@badges@{owed.since}", ("GSI1PK", "GSI1SK", "PK", "SK"))
        badge_ids = sorted(owed.badges or ())
        program = self.programs.program()

        def settle(item: MemberProfile) -> None:
            try:
                self._member(report, item.member_id, badge_ids, now, program, owed.since)
            except Exception:
                self._again(owed)
                raise

        with self._leased(report) as (go, lease):
            if go:
                status = self._pages(report, listing, Cursor(self.tenant, BACKFILL_JOB), settle, MemberProfile, lease)
                if status == "end":
                    self._done(owed)
        report.listed = report.seen
        report.seconds = round(time.monotonic() - started, 3)
        return report

    def _member(self, report: JobReport, member_id: str, badge_ids: list[str], now: datetime, program,
                since: str) -> None:
        cat = catalog(self.programs)
        for _ in range(ATTEMPTS):
            items = card(self.tenant, member_id)
            counters, _version = counters_of(items)
            held = held_of(items)
            due: list[Award] = []
            for badge_id in badge_ids:
                badge = cat.badge(badge_id)
                if badge is None or badge.id in held or badge.criterion is None or not badge.available_at(now):
                    continue
                kind = criteria.of(badge.criterion)
                if kind.met(counters, badge.criterion):
                    due.append(Award(badge, _dated(badge, kind.reached_at(counters, badge.criterion), now),
                                     f"backfill:{since}", backfilled=True))
            if not due:
                report.skipped += 1
                return
            chunk = due[:AWARDS_PER_TRANSACTION]
            ledger = MemberLedger(self.tenant, member_id, now, program)

            def build(known: Balance) -> Transaction:
                tx = Transaction()
                points = add_rewards(tx, ledger, known, chunk, [], announce=False)
                tx.put("summary", outbox_event(self.tenant, ledger.pk, "badge.backfilled", {
                    "memberId": member_id, "points": points,
                    "badges": [{"badgeId": a.badge.id, "earnedAt": a.earned_at.isoformat()} for a in chunk]},
                    ledger.now_iso, int(now.timestamp())))
                return tx

            try:
                post(build)
            except TransactionCancelled:
                continue  # a badge was awarded meanwhile (by the listener): read again
            report.processed += 1
            report.points += sum(a.badge.bonus_points for a in chunk)
            if len(due) == len(chunk):
                return
        raise KeptChanging(f"member {member_id} kept changing")

    def _owed(self) -> BadgePass | None:
        try:
            return call(lambda: BadgePass.get(keys.job_pk(self.tenant, BACKFILL_JOB), PASS_SK, consistent_read=True),
                        what="badge pass")
        except BadgePass.DoesNotExist:
            return None

    def _again(self, owed: BadgePass) -> None:
        try:
            call(lambda: BadgePass(owed.PK, owed.SK).update([BadgePass.retry.set(True)],
                                                            condition=BadgePass.since == owed.since,
                                                            add_version_condition=False), what="badge pass")
        except Exception:  # replaced by a newer save (whose walk covers everyone), or unwritable now
            pass

    def _done(self, owed: BadgePass) -> None:
        P = BadgePass
        try:
            call(lambda: P(owed.PK, owed.SK).delete(condition=(P.since == owed.since) & (P.retry == False),  # noqa: E712
                                                    add_version_condition=False), what="badge pass")
            return
        except Exception:
            pass
        try:  # a member failed: one more walk, unless a newer save replaced the pass meanwhile
            call(lambda: P(owed.PK, owed.SK).update([P.retry.set(False)], condition=P.since == owed.since,
                                                    add_version_condition=False), what="badge pass")
        except Exception:
            pass


def _dated(badge: Badge, reached: datetime | None, now: datetime) -> datetime:
    """When the member qualified, not before the badge could be earned; now if the counters cannot say."""
    at = reached or now
    return max(at, badge.available_from) if badge.available_from else at


def badge_backfill(jobs: PointsJobs, now: datetime) -> JobReport:
    """For api/jobs.py's JOBS: the backfill as one of the points jobs."""
    return BadgeJobs.of(jobs).backfill(now)
