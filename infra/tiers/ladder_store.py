"""Saving a tier ladder. The first ladder applies at once (nobody had a tier to lose). An edit applies
from the next period start (the current period is judged by the ladder it began under), or, when staff
ask for it, at once, with the recalculation job owed in the same transaction."""
from __future__ import annotations

from dataclasses import replace
from datetime import datetime
from enum import Enum

from domain import calendar
from domain.tiers.ladder import Ladder, LadderSchedule, QualificationPeriod, ladder_to_dict, validate_ladder
from domain.tiers.status import period_end
from infra import keys
from infra.jobs_state import PASS_SK, MarkingPass
from infra.points.program_store import ProgramStore
from infra.tiers.jobs import RECALC_JOB


class ApplyFrom(Enum):
    NEXT_PERIOD = "NEXT_PERIOD"
    NOW = "NOW"


def save_ladder(programs: ProgramStore, ladder: Ladder, apply_from: ApplyFrom, actor: str, now: datetime,
                reason: str | None) -> LadderSchedule:
    ladder = validate_ladder(ladder)
    program = programs.program()
    schedule = program.tiers.settled(now)
    also = ()
    if schedule.current is None or apply_from is ApplyFrom.NOW:
        new = LadderSchedule(current=ladder)
        if schedule.current is not None:
            also = (("recalculation", MarkingPass(keys.job_pk(programs.tenant, RECALC_JOB), PASS_SK,
                                                  since=now.isoformat())),)
    else:
        start = period_end(schedule.current, program.timezone, now)
        if start is None or schedule.current.period is QualificationPeriod.LIFETIME:
            start = calendar.month_end(calendar.month_key(now, program.timezone), program.timezone)
        new = LadderSchedule(current=schedule.current, next=ladder, next_from=start)
    programs.save_program(replace(program, tiers=new), actor, now, reason, action="tiers.ladder_set",
                          describe=lambda _a, _b: {"ladder": ladder_to_dict(ladder), "applyFrom": apply_from.value,
                                                   "from": new.next_from.isoformat() if new.next_from else now.isoformat()},
                          also=also)
    return new
