"""The tier job: period ends, grace and staff tiers that end, and the at-risk notice, found through the
tier due index (GSI3 `T#t#DUE#TIER`, sort key `<due>#<member>`), never a Scan.

A qualifying credit sets a member's mark when they have none (the first thing the job owes them this
period); after each look the job moves the mark to the next thing it owes them or removes it. Each look
reads the member and commits one transaction conditioned on the profile's `version`, and what it stores
records what was done (`tierEvaluatedThrough`, `tierRiskSentFor`, a cleared grace target or staff
setting), so a second run, or two runs at once, change nothing twice. The walk, its pages, budget,
cursor and lease are the points jobs' own (infra/points/jobs.py)."""
from __future__ import annotations

import time
from datetime import datetime
from typing import Any

from domain.tiers.status import EPSILON, evaluate, last_period_end, next_due, standing
from infra import keys
from infra.dynamo_errors import call
from infra.items import MemberProfile, TableItem
from infra.jobs_state import PASS_SK, Cursor, MarkingPass
from infra.members import outbox_event
from infra.points.jobs import JobReport, Listing, PointsJobs, _upto
from infra.table import LOOKUP_INDEX, TIER_DUE_INDEX
from infra.tiers.history import Announcement, announce
from infra.tiers.state import due_actions, state_of, stored_actions, trim_actions
from infra.transaction import Transaction

JOB = "tiers"


def member_profile(pk: str) -> MemberProfile | None:
    try:
        return call(lambda: MemberProfile.get(pk, keys.PROFILE, consistent_read=True), what="member")
    except MemberProfile.DoesNotExist:
        return None


def tier_listing(tenant: str, until: datetime) -> Listing:
    pk = keys.due_pk(tenant, "TIER")
    return Listing(TIER_DUE_INDEX, pk, TableItem.GSI3SK <= _upto(until), None, _upto(until), pk,
                   ("GSI3PK", "GSI3SK", "PK", "SK"))


class TierJobs(PointsJobs):
    def evaluate_due(self, now: datetime) -> JobReport:
        report = JobReport(JOB, self.tenant)
        program = self.programs.program()
        if program.tiers.current is None and program.tiers.next is None:
            report.note = "the program has no tier ladder"
            return report
        started = time.monotonic()

        def settle(item: TableItem) -> None:
            member_id = keys.member_of(item.PK)
            self._settle(report, f"tiers of {member_id}", lambda: self._look(member_id, now))

        with self._leased(report) as (go, lease):
            if go:
                self._pages(report, tier_listing(self.tenant, now), Cursor(self.tenant, JOB), settle, TableItem, lease)
        report.seconds = round(time.monotonic() - started, 3)
        return report

    def _look(self, member_id: str, now: datetime) -> tuple[Transaction, int] | None:
        pk = keys.member_pk(self.tenant, member_id)
        profile = member_profile(pk)
        if profile is None:
            return None
        program = self.programs.program()
        tz = program.timezone
        ladder = program.tiers.at(now)
        if ladder is None:
            return None
        # A period that ended is judged by the ladder it ran under (an edit applies from the next one).
        end = last_period_end(ladder, tz, now)
        ladder = (program.tiers.at(end - EPSILON) if end is not None else None) or ladder
        state = state_of(profile)
        ev = evaluate(state, ladder, tz, now)
        P = MemberProfile
        actions: list[Any] = stored_actions(state, ev.state) + trim_actions(state, tz, now)
        actions += due_actions(self.tenant, member_id, ev.next_due)
        condition: Any = P.version == profile.version
        tx = Transaction()
        if ev.cause is not None or (ev.after.id if ev.after else "") != (profile.tier_announced or ""):
            # Record the tier as it now stands (also a change a credit's listener has not recorded yet).
            before = ladder.by_id(profile.tier_announced) if profile.tier_announced else ev.before
            if (before.id if before else "") != (ev.after.id if ev.after else ""):
                more, cond = announce(tx, self.tenant, member_id, profile.tier_announced,
                                      Announcement(before, ev.after, ev.cause or "CREDIT"), now)
                actions += more
                condition &= cond
        if ev.at_risk is not None:
            r = ev.at_risk
            tx.put("risk-event", outbox_event(self.tenant, pk, "tier.at_risk", {
                "memberId": member_id, "tier": r.tier.id, "tierName": r.tier.name, "pointsNeeded": str(r.needed),
                "basis": ladder.basis.value, "periodEndsAt": r.period_ends_at.isoformat()},
                now.isoformat(), int(now.timestamp())))
        if not actions:
            return None
        tx.update("profile", MemberProfile(pk, keys.PROFILE), [*actions, P.version.add(1)], condition)
        return tx, 0


RECALC_JOB = "tier-recalculation"


class TierRecalculation(TierJobs):
    """Staff asked to apply the ladder to everyone now (`tierLadderSet(applyFrom: NOW)`): one walk of
    the members list (GSI1), under the job's lease (serialized), paged with a cursor (resumable), each
    member on its own. For each member whose tier under the ladder now differs from the one recorded, the
    change is recorded (cause RECALCULATION) and the tier due mark is set. Entry points follow from the
    `tier.changed` event and are once per member and tier (infra/tiers/listener.py), so a recalculation
    never pays them again. The pass item is removed when a walk ends with no member failed."""

    def run(self, now: datetime) -> JobReport:
        report = JobReport(RECALC_JOB, self.tenant)
        owed = self._owed()
        if owed is None:
            report.note = "no recalculation was asked for"
            return report
        started = time.monotonic()
        members = keys.members_list_pk(self.tenant)
        listing = Listing(LOOKUP_INDEX, members, TableItem.GSI1SK <= "~", None, "~", f"{members}@{owed.since}",
                          ("GSI1PK", "GSI1SK", "PK", "SK"))

        def settle(item: MemberProfile) -> None:
            self._settle(report, f"recalculation of {item.member_id}", lambda: self._recalc(item.member_id, now))

        with self._leased(report) as (go, lease):
            if go:
                status = self._pages(report, listing, Cursor(self.tenant, RECALC_JOB), settle, MemberProfile, lease)
                if status == "end" and report.failed == 0:
                    call(lambda: owed.delete(condition=MarkingPass.since == owed.since), what="recalculation pass")
        report.seconds = round(time.monotonic() - started, 3)
        return report

    def _owed(self) -> MarkingPass | None:
        try:
            return call(lambda: MarkingPass.get(keys.job_pk(self.tenant, RECALC_JOB), PASS_SK, consistent_read=True),
                        what="recalculation pass")
        except MarkingPass.DoesNotExist:
            return None

    def _recalc(self, member_id: str, now: datetime) -> tuple[Transaction, int] | None:
        pk = keys.member_pk(self.tenant, member_id)
        profile = member_profile(pk)
        if profile is None:
            return None
        program = self.programs.program()
        ladder = program.tiers.at(now)
        if ladder is None:
            return None
        state = state_of(profile)
        tz = program.timezone
        now_tier = standing(state, ladder, tz, now).tier
        if (now_tier.id if now_tier else "") == (profile.tier_announced or ""):
            return None
        tx = Transaction()
        before = ladder.by_id(profile.tier_announced) if profile.tier_announced else None
        actions, condition = announce(tx, self.tenant, member_id, profile.tier_announced,
                                      Announcement(before, now_tier, "RECALCULATION"), now)
        actions += due_actions(self.tenant, member_id, next_due(state, ladder, tz, now))
        tx.update("profile", MemberProfile(pk, keys.PROFILE), [*actions, MemberProfile.version.add(1)],
                  condition & (MemberProfile.version == profile.version))
        return tx, 0
