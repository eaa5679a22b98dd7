"""What joining earns: orders placed before enrolling, the signup rule, the referrer's reward, and
the profile-completed rule. Each is credited once, by its natural key, so a retry changes nothing."""
from __future__ import annotations

import logging
from datetime import datetime

from domain import members as member_rules
from domain.errors import UserError
from domain.points.actions import PROFILE_COMPLETED, REFERRAL, SIGNUP
from infra import keys
from infra.members import outbox_event
from infra.points.adjustments import ActionCredits
from infra.points.items import SourceMark
from infra.points.orders import OrderBook
from infra.points.program_store import ProgramStore
from infra.transaction import Transaction, TransactionCancelled

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
            self._announce(referrer_id, f"referral-succeeded:{member.id}", "referral.succeeded",
                           {"referredMemberId": member.id}, now)
        self.profile_changed(member, now)

    def email_bound(self, member: member_rules.Member, now: datetime) -> None:
        """Orders placed as a guest with the email the IdP vouches for become this member's (once each)."""
        if member.verified_email:
            self.orders.claim_for(member.id, member.verified_email, now)

    def profile_changed(self, member: member_rules.Member, now: datetime) -> None:
        if member_rules.profile_complete(member):
            self._credit(member.id, PROFILE_COMPLETED, member.id, now)
            self._announce(member.id, "profile-completed", "member.profile_completed", {}, now)

    def _announce(self, member_id: str, cause: str, event: str, detail: dict, now: datetime) -> None:
        """Tell the listeners (badges: profile completed, successful referrals) once per cause, whether or
        not the program credits points for it: the event and its source mark in one transaction."""
        pk = keys.member_pk(self.tenant, member_id)
        tx = Transaction()
        tx.put("source", SourceMark(pk, f"{keys.SOURCE_PREFIX}{cause}", cause=cause, created_at=now.isoformat()),
               SourceMark.PK.does_not_exist())
        tx.put("event", outbox_event(self.tenant, pk, event, {"memberId": member_id, **detail}, now.isoformat(),
                                     int(now.timestamp())))
        tx.check("member", SourceMark, pk, keys.PROFILE, SourceMark.PK.exists())
        try:
            tx.commit()
        except TransactionCancelled as c:
            if c.failed_on("source") or c.failed_on("member"):
                return  # told before, or no such member (a referrer who left)
            raise

    def _credit(self, member_id: str, action: str, reference: str, now: datetime) -> None:
        if not any(r.action == action for r in self.programs.program().actions):
            return
        try:
            self.credits.record(member_id, action, reference, now)
        except UserError as e:
            # Already credited, capped or cooling down: the member keeps what they have.
            log.info("no %s credit for %s: %s", action, member_id, e.code.value)
