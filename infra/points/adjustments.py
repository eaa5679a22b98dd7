"""Staff point adjustments (always with a reason, always audited) and points for actions."""
from __future__ import annotations

from datetime import datetime

from domain.errors import ErrorCode, UserError
from domain.points import actions as action_rules
from domain.points.balance import Balance, EntryType, adjust, check_adjustment, credit
from infra import keys
from infra.audit import audit_entry
from infra.points.items import ActionCount, SourceMark
from infra.points.ledger import Change, MemberLedger, post
from infra.points.orders import OrderBook
from infra.points.program_store import ProgramStore
from infra.tiers.state import Qualification
from infra.transaction import Transaction, TransactionCancelled
from domain import calendar


class Adjustments:
    def __init__(self, tenant: str, programs: ProgramStore):
        self.tenant = tenant
        self.programs = programs

    def adjust(self, member_id: str, points: int, reason: str, actor: str, now: datetime,
               qualifying: bool = False) -> int:
        """`qualifying`: the adjustment counts toward tier qualification (and leaderboards) in this
        month, up or down; by default staff adjustments do not."""
        check_adjustment(points, reason)
        program = self.programs.program()
        ledger = MemberLedger(self.tenant, member_id, now, program)
        q = Qualification(calendar.month_key(now, program.timezone), points) if qualifying else None

        def build(known: Balance) -> Transaction:
            tx = Transaction()
            ledger.add(tx, Change(adjust(known, points), EntryType.ADJUSTMENT, reason=reason.strip(),
                                  source=f"staff:{actor}", actor=actor, activity=False, event="points.adjusted",
                                  qualifying=q), known)
            tx.put("audit", audit_entry(self.tenant, actor, "points.adjust", now, member_id=member_id,
                                        detail={"points": points, **({"qualifying": True} if qualifying else {})},
                                        reason=reason.strip()))
            return tx

        # Downward adjustments need the real balance (never below zero); the first try assumes it suffices.
        post(build, assume=Balance(available=max(-points, 0)))
        return points


class ActionCredits:
    """Points for an action, once per (action, reference), within the rule's cap and cooldown."""

    def __init__(self, tenant: str, programs: ProgramStore, orders: OrderBook):
        self.tenant = tenant
        self.programs = programs
        self.orders = orders

    def record(self, member_id: str, action: str, reference: str, now: datetime) -> int:
        program = self.programs.program()
        rule = program.action(action)
        action_rules.check_reference(reference)
        if rule.max_return_rate is not None:
            action_rules.check_return_rate(rule, self.orders.return_rate(member_id, now))
        ledger = MemberLedger(self.tenant, member_id, now, program)
        cause = f"action:{action}:{reference}"
        ladder = program.tiers.at(now)
        # Action points qualify for tiers only when the ladder lists the action.
        qualifying = (Qualification(calendar.month_key(now, program.timezone), rule.points)
                      if ladder is not None and action in ladder.qualifying_actions else None)

        def build(known: Balance) -> Transaction:
            tx = Transaction()
            tx.put("source", SourceMark(ledger.pk, f"{keys.SOURCE_PREFIX}{cause}", cause=cause,
                                        created_at=now.isoformat()), SourceMark.PK.does_not_exist())
            if rule.cap_per_period is not None:
                bucket = action_rules.period_key(rule.period, now, program.timezone)
                tx.update("cap", ActionCount(ledger.pk, keys.action_count_sk(action, bucket)),
                          [ActionCount.count.add(1)],
                          ActionCount.count.does_not_exist() | (ActionCount.count < rule.cap_per_period))
            cutoff = action_rules.cooldown_cutoff(rule, now)
            if cutoff is not None:
                tx.update("cooldown", ActionCount(ledger.pk, keys.action_count_sk(action, "LAST")),
                          [ActionCount.last_at.set(now.isoformat())],
                          ActionCount.last_at.does_not_exist() | (ActionCount.last_at <= cutoff.isoformat()))
            ledger.add(tx, Change(credit(known, rule.points), EntryType.ACTION, reason=action, source=cause,
                                  event="points.earned", event_detail={"action": action, "reference": reference},
                                  qualifying=qualifying), known)
            return tx

        try:
            post(build)
        except TransactionCancelled as c:
            if c.failed_on("source"):
                raise UserError(ErrorCode.ALREADY_CREDITED, "This action was credited already.", "reference") from None
            if c.failed_on("cap"):
                raise UserError(ErrorCode.CAP_REACHED, "The cap for this action is reached for now.", "action") from None
            if c.failed_on("cooldown"):
                raise UserError(ErrorCode.COOLDOWN, "This action was credited too recently.", "action") from None
            raise
        return rule.points
