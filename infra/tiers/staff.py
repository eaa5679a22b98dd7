"""Staff and tiers: set a member's tier (a floor, an override, either until a date), clear it, and
preview what the coming period end will do. Each change is audited and recorded in the tier history
in one transaction; the mode is stored as given, so an override never quietly turns into a floor."""
from __future__ import annotations

from dataclasses import replace
from datetime import datetime
from typing import Any

from domain.errors import ErrorCode, UserError, collect
from domain.points.program import Program
from domain.tiers.ladder import Ladder
from domain.tiers.status import Manual, ManualMode, Preview, Standing, TierState, next_due, preview, standing
from infra import keys
from infra.audit import audit_entry
from infra.dynamo_errors import call
from infra.items import MemberProfile
from infra.points.program_store import ProgramStore
from infra.tiers.history import Announcement, announce
from infra.tiers.state import due_actions, manual_to_json, state_of, stored_actions
from infra.transaction import Transaction, TransactionCancelled

ATTEMPTS = 5


class TierDesk:
    def __init__(self, tenant: str, programs: ProgramStore):
        self.tenant = tenant
        self.programs = programs

    def _ladder(self, now: datetime) -> tuple[Program, Ladder]:
        program = self.programs.program()
        ladder = program.tiers.at(now)
        if ladder is None:
            raise UserError(ErrorCode.NOT_AVAILABLE, "The program has no tier ladder.", "tierId")
        return program, ladder

    def _profile(self, member_id: str) -> MemberProfile:
        try:
            return call(lambda: MemberProfile.get(keys.member_pk(self.tenant, member_id), keys.PROFILE,
                                                  consistent_read=True), what="member")
        except MemberProfile.DoesNotExist:
            raise UserError(ErrorCode.NOT_ENROLLED, "This member has not enrolled.", "memberId") from None

    def set_manual(self, member_id: str, tier_id: str | None, mode: ManualMode | None, until: datetime | None,
                   reason: str, actor: str, now: datetime) -> Standing:
        """Set (tier_id and mode given) or clear (both None) the member's staff tier."""
        program, ladder = self._ladder(now)
        tier = ladder.by_id(tier_id) if tier_id else None
        collect(UserError(ErrorCode.NOT_FOUND, "No tier with this id in the ladder.", "tierId")
                if tier_id and tier is None else None,
                UserError(ErrorCode.OUT_OF_RANGE, "The end date must be in the future.", "until")
                if until is not None and until <= now else None,
                UserError(ErrorCode.REQUIRED, "Say why.", "reason") if not reason.strip() else None)
        manual = Manual(tier.id, mode or ManualMode.FLOOR, until, reason.strip()) if tier else None
        for _ in range(ATTEMPTS):
            profile = self._profile(member_id)
            state = state_of(profile)
            after_state = replace(state, manual=manual)
            try:
                return self._commit(profile, state, after_state, program, ladder, now, actor, reason.strip(),
                                    {"tierId": tier.id if tier else None, "mode": manual.mode.value if manual else None,
                                     "until": until.isoformat() if until else None,
                                     "before": manual_to_json(state.manual)})
            except TransactionCancelled as c:
                if c.failed_on("profile"):
                    continue
                raise
        raise UserError(ErrorCode.CONFLICT, "The member kept changing; try again.", "memberId")

    def _commit(self, profile: MemberProfile, state: TierState, after_state: TierState, program: Program,
                ladder: Ladder, now: datetime, actor: str, reason: str, detail: dict[str, Any]) -> Standing:
        tz = program.timezone
        before, after = standing(state, ladder, tz, now), standing(after_state, ladder, tz, now)
        P = MemberProfile
        member_id = profile.member_id
        actions = stored_actions(state, after_state) + due_actions(self.tenant, member_id,
                                                                   next_due(after_state, ladder, tz, now))
        condition = P.version == profile.version
        tx = Transaction()
        announced = ladder.by_id(profile.tier_announced) if profile.tier_announced else before.tier
        if (announced.id if announced else None) != (after.tier.id if after.tier else None):
            more, cond = announce(tx, self.tenant, member_id, profile.tier_announced,
                                  Announcement(announced, after.tier, "STAFF", reason=reason, actor=actor), now)
            actions += more
            condition &= cond
        tx.put("audit", audit_entry(self.tenant, actor, "member.tier_set", now, member_id=member_id, detail=detail,
                                    reason=reason))
        tx.update("profile", MemberProfile(profile.PK, keys.PROFILE), [*actions, P.version.add(1)], condition)
        tx.commit()
        return after

    def preview(self, member_id: str, now: datetime) -> Preview:
        program, ladder = self._ladder(now)
        return preview(state_of(self._profile(member_id)), ladder, program.timezone, now)
