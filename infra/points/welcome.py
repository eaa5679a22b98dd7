"""What joining earns: orders placed before enrolling, the signup rule, the referrer's reward, and
the profile-completed rule. Each is credited once, by its natural key, so a retry changes nothing."""
from __future__ import annotations

import logging
from datetime import datetime

from domain import members as member_rules
from domain.errors import UserError
from domain.points.actions import PROFILE_COMPLETED, REFERRAL, SIGNUP
from infra.points.adjustments import ActionCredits
from infra.points.orders import OrderBook
from infra.points.program_store import ProgramStore

log = logging.getLogger("kizuna.points")


class Welcome:
    def __init__(self, tenant: str, programs: ProgramStore, orders: OrderBook, credits: ActionCredits):
        self.tenant = tenant
        self.programs = programs
        self.orders = orders
        self.credits = credits

    def enrolled(self, member: member_rules.Member, referrer_id: str | None, now: datetime) -> None:
        self.email_bound(member, now)
        self._credit(member.id, SIGNUP, member.id, now)
        if referrer_id:
            self._credit(referrer_id, REFERRAL, member.id, now)
        self.profile_changed(member, now)

    def email_bound(self, member: member_rules.Member, now: datetime) -> None:
        """Orders placed as a guest with the email the IdP vouches for become this member's (once each)."""
        if member.verified_email:
            self.orders.claim_for(member.id, member.verified_email, now)

    def profile_changed(self, member: member_rules.Member, now: datetime) -> None:
        if member_rules.profile_complete(member):
            self._credit(member.id, PROFILE_COMPLETED, member.id, now)

    def _credit(self, member_id: str, action: str, reference: str, now: datetime) -> None:
        if not any(r.action == action for r in self.programs.program().actions):
            return
        try:
            self.credits.record(member_id, action, reference, now)
        except UserError as e:
            # Already credited, capped or cooling down: the member keeps what they have.
            log.info("no %s credit for %s: %s", action, member_id, e.code.value)
