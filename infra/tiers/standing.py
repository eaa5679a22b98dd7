"""A member's tier from their profile item and the program (no read of its own)."""
from __future__ import annotations

from datetime import datetime

from domain.points.program import Program
from domain.tiers.status import Standing, standing
from infra.items import MemberProfile
from infra.tiers.state import state_of


def member_standing(profile: MemberProfile, program: Program, now: datetime) -> Standing | None:
    """None when the program has no ladder."""
    ladder = program.tiers.at(now)
    if ladder is None:
        return None
    return standing(state_of(profile), ladder, program.timezone, now)
