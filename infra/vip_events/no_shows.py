"""After an event ends, every confirmed registration nobody checked in becomes a no-show (the
`vip-no-shows` job, infra/vip_events/jobs.py walks the events and their registrations).

One TransactWriteItems per registration: CONFIRMED -> NO_SHOW conditioned on the state and version read
(a late check-in or a rerun of the job: exactly one of them lands); per the program's setting
(`Program.vip_events`) the points cost is kept or refunded (one ledger credit); the member's `VIPSTATS`
counts it (`noShows`, the recent ones within the window, and `blockedUntil` when they reach the limit),
conditioned on its version (or on not existing yet); a `vip_event.no_show` outbox event.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from domain.points.balance import Balance, EntryType, credit
from domain.vip_events import policy
from domain.vip_events.model import RegistrationState
from infra import keys
from infra.dynamo_errors import call
from infra.members import outbox_event
from infra.points.ledger import Change, MemberLedger, post
from infra.points.program_store import ProgramStore
from infra.transaction import Transaction
from infra.vip_events.catalog import event_of
from infra.vip_events.items import MemberVipStats, RegistrationItem, VipEventItem

REASON = "NO_SHOW"


@dataclass(frozen=True)
class Marked:
    points: int  # refunded
    blocked_until: datetime | None


def stats_of(tenant: str, member_id: str) -> MemberVipStats | None:
    try:
        return call(lambda: MemberVipStats.get(keys.member_pk(tenant, member_id), keys.VIP_STATS_SK,
                                               consistent_read=True), what="VIP stats")
    except MemberVipStats.DoesNotExist:
        return None


class NoShows:
    def __init__(self, tenant: str, programs: ProgramStore):
        self.tenant = tenant
        self.programs = programs

    def mark(self, event: VipEventItem, reg: RegistrationItem, now: datetime) -> Marked | None:
        """None when the registration is not a no-show (checked in, cancelled, never confirmed). Raises
        TransactionCancelled when the registration or the member's stats moved since they were read."""
        if RegistrationState(reg.state) is not RegistrationState.CONFIRMED:
            return None
        definition = event_of(event)
        program = self.programs.program()
        stats = stats_of(self.tenant, reg.member_id)
        outcome = policy.no_show(program.vip_events, int(reg.points_paid or 0),
                                 list(stats.no_show_times or []) if stats else [], now)
        ledger = MemberLedger(self.tenant, reg.member_id, now, program)
        now_iso, epoch = now.isoformat(), int(now.timestamp())
        R, S = RegistrationItem, MemberVipStats
        blocked = outcome.blocked_until
        if blocked is not None and stats is not None and stats.blocked_until and stats.blocked_until > blocked.isoformat():
            blocked = datetime.fromisoformat(stats.blocked_until)  # a longer block stays

        def build(known: Balance) -> Transaction:
            tx = Transaction()
            tx.update("registration", reg, [
                R.state.set(RegistrationState.NO_SHOW.value), R.reason.set(REASON),
                R.points_refunded.set(outcome.refund), R.updated_at.set(now_iso), R.version.add(1)],
                (R.state == RegistrationState.CONFIRMED.value) & (R.version == int(reg.version)))
            actions = [S.no_shows.add(1), S.no_show_times.set(list(outcome.times)), S.version.add(1),
                       S.kind.set(MemberVipStats)]
            if blocked is not None:
                actions.append(S.blocked_until.set(blocked.isoformat()))
            tx.update("stats", MemberVipStats(ledger.pk, keys.VIP_STATS_SK), actions,
                      S.PK.does_not_exist() if stats is None else S.version == int(stats.version))
            if outcome.refund:
                ledger.add(tx, Change(credit(known, outcome.refund, counts_toward_lifetime=False),
                                      EntryType.REDEMPTION_CANCELLED, reason=f"{definition.title}: not attended"[:200],
                                      source=f"vip:{definition.event_id}", activity=False), known)
            tx.put("notice", outbox_event(self.tenant, ledger.pk, "vip_event.no_show", {
                "memberId": reg.member_id, "eventId": definition.event_id, "title": definition.title,
                "pointsRefunded": outcome.refund, "pointsForfeited": int(reg.points_paid or 0) - outcome.refund,
                **({"blockedUntil": blocked.isoformat()} if blocked else {})}, now_iso, epoch))
            return tx

        post(build)
        return Marked(outcome.refund, blocked)
