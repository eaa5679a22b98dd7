"""Saving challenge definitions (staff, audited) and joining an opt-in challenge (members)."""
from __future__ import annotations

from datetime import datetime
from typing import Any, Callable

from domain.challenges import definitions as rules
from domain.challenges.definitions import Challenge
from domain.errors import ErrorCode, UserError
from infra import keys
from infra.audit import audit_entry
from infra.challenges.items import CHALLENGE_PREFIX, ChallengeDefinition
from infra.dynamo_errors import call
from infra.items import MemberProfile
from infra.points.program_store import ProgramStore
from infra.progress import catalog as catalogs
from infra.progress.items import CHALLENGE_PROGRESS_PREFIX, ChallengeProgress
from infra.transaction import Transaction, TransactionCancelled

Describe = Callable[[Any, Any], dict[str, Any]]


class ChallengeStore:
    def __init__(self, tenant: str, programs: ProgramStore):
        self.tenant = tenant
        self.programs = programs

    def all(self) -> list[Challenge]:
        return [c for c, _ in catalogs.catalog(self.programs).challenges.values()]

    def get(self, challenge_id: str) -> Challenge | None:
        return catalogs.catalog(self.programs).challenge(challenge_id)

    def fresh(self, challenge_id: str) -> tuple[Challenge, int] | None:
        catalogs.invalidate(self.programs)
        return catalogs.catalog(self.programs).challenges.get(challenge_id)

    def save(self, challenge: Challenge, actor: str, now: datetime, *, existing: tuple[Challenge, int] | None,
             describe: Describe | None = None) -> Challenge:
        badge_ok = challenge.reward_badge is None or catalogs.catalog(self.programs).badge(challenge.reward_badge) is not None
        rules.validate(challenge, badge_exists=badge_ok)
        tx = Transaction()
        item = ChallengeDefinition(keys.program_pk(self.tenant), f"{CHALLENGE_PREFIX}{challenge.id}",
                                   definition=rules.to_dict(challenge), version=existing[1] + 1 if existing else 1)
        tx.put("challenge", item, ChallengeDefinition.PK.does_not_exist() if existing is None
               else ChallengeDefinition.version == existing[1])
        before = existing[0] if existing else None
        detail = describe(before, challenge) if describe else rules.to_dict(challenge)
        tx.put("audit", audit_entry(self.tenant, actor, "challenge.save", now, detail=detail))
        try:
            tx.commit()
        except TransactionCancelled:
            raise UserError(ErrorCode.CONFLICT, "The challenge was changed meanwhile; try again.", "id") from None
        finally:
            catalogs.invalidate(self.programs)
        return challenge

    def join(self, member_id: str, challenge: Challenge, now: datetime) -> ChallengeProgress:
        """Take part in an opt-in challenge from now on (events before joining do not count). Joining
        again changes nothing and answers the progress as it is."""
        if not challenge.opt_in:
            raise UserError(ErrorCode.INVALID, "Everyone takes part in this challenge: there is nothing to join.",
                            "challengeId")
        if not challenge.running_at(now):
            raise UserError(ErrorCode.NOT_AVAILABLE, "This challenge is not running now.", "challengeId")
        pk, sk = keys.member_pk(self.tenant, member_id), f"{CHALLENGE_PROGRESS_PREFIX}{challenge.id}"
        item = ChallengeProgress(pk, sk, challenge_id=challenge.id, counters={}, version=1, joined_at=now.isoformat(),
                                 expires_at=int(challenge.kept_until().timestamp()))
        tx = Transaction()
        tx.put("progress", item, ChallengeProgress.PK.does_not_exist())
        tx.check("profile", MemberProfile, pk, keys.PROFILE, MemberProfile.PK.exists())
        try:
            tx.commit()
        except TransactionCancelled as c:
            if c.failed_on("profile"):
                raise UserError(ErrorCode.NOT_ENROLLED, "Enroll before joining a challenge.") from None
            return call(lambda: ChallengeProgress.get(pk, sk, consistent_read=True), what="challenge progress")
        return item
