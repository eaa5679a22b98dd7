"""Orders: credit pending points once per order, move the return window on delivery, and take
points back for refunds and returns. Orders for emails not enrolled yet wait for that member."""
from __future__ import annotations

import logging
from dataclasses import dataclass, field, replace
from datetime import datetime, timezone
from decimal import Decimal
from enum import Enum

from pynamodb.exceptions import UpdateError

from domain.errors import ErrorCode, UserError, UserErrors
from domain.points import orders as rules
from domain.points.balance import EntryStatus, EntryType, credit, hold, reverse
from domain.points.orders import LinePoints, Order, ReturnRefused, ReturnRequest
from domain.points.program import Program
from infra import keys
from infra.dynamo_errors import call, guarded
from infra.items import EmailClaim, MemberProfile, OutboxEvent
from infra.members import outbox_event
from infra.points.items import AuditEntry, LedgerEntry, OrderOwner, OrderRecord, SourceMark, UnclaimedOrder
from infra.points.ledger import Change, MemberLedger, post, profile_balance
from infra.points.program_store import ProgramStore
from infra.tiers.standing import member_standing
from infra.tiers.state import Qualification, counts_spend, state_of, stored_actions
from infra.transaction import Transaction, TransactionCancelled
from domain import calendar
from domain.tiers.status import retain_before_drop

log = logging.getLogger("kizuna.points")

OWNER_SK = "OWNER"
UNCLAIMED_PREFIX = "ORDER#"


class OrderOutcome(Enum):
    CREDITED = "CREDITED"  # pending points were credited
    DUPLICATE = "DUPLICATE"  # this order was credited before: nothing changed
    DELIVERY_RECORDED = "DELIVERY_RECORDED"  # a known order was delivered: the return window moved
    HELD_FOR_ENROLLMENT = "HELD_FOR_ENROLLMENT"  # no member has this email yet
    NO_CUSTOMER = "NO_CUSTOMER"  # a guest order without email: nobody to credit


@dataclass(frozen=True)
class OrderResult:
    outcome: OrderOutcome
    order_id: str
    member_id: str | None = None
    points: int = 0


@dataclass(frozen=True)
class ReturnResult:
    order_id: str
    member_id: str
    points_reversed: int
    bonus_points: int
    duplicate: bool = False
    lines: tuple[LinePoints, ...] = field(default=())  # the order's lines after the return: what is left of each


class OrderBook:
    def __init__(self, tenant: str, programs: ProgramStore):
        self.tenant = tenant
        self.programs = programs

    # -- finding the member ------------------------------------------------------------------
    @guarded
    def member_for_email(self, email: str) -> str | None:
        try:
            return EmailClaim.get(keys.email_pk(self.tenant, email), "MEMBER").member_id
        except EmailClaim.DoesNotExist:
            return None

    @guarded
    def owner(self, order_id: str) -> OrderOwner | None:
        try:
            return OrderOwner.get(keys.order_pk(self.tenant, order_id), OWNER_SK)
        except OrderOwner.DoesNotExist:
            return None

    @guarded
    def record_of(self, member_id: str, order_id: str) -> OrderRecord | None:
        try:
            # Consistent: a return checks what is left of the order against this read.
            return OrderRecord.get(keys.member_pk(self.tenant, member_id), keys.order_sk(order_id),
                                   consistent_read=True)
        except OrderRecord.DoesNotExist:
            return None

    # -- paid and delivered orders -----------------------------------------------------------
    def record(self, order: Order, now: datetime, *, claim_from: str | None = None,
               audit: AuditEntry | None = None) -> OrderResult:
        """Credit an order's points as pending, once. With a delivery date the return window
        starts there; a known order that is now delivered only has its window moved."""
        program = self.programs.program()
        order = rules.validate_order(order, program)
        member_id = order.member_id or (self.member_for_email(order.email) if order.email else None)
        if member_id is None:
            if not order.email:
                return OrderResult(OrderOutcome.NO_CUSTOMER, order.id)
            return self._hold_for_email(order, now)
        tier = None
        if program.tier_multipliers_matter():
            # The tier's multiplier needs the member's tier: a read first (only for such programs).
            profile = self._profile(member_id)
            standing = member_standing(profile, program, now) if profile else None
            tier = (standing.tier.id if standing and standing.tier else None) if program.tiers.current else (
                profile.tier if profile else None)
        earning = rules.earn(order, program, tier)
        ladder = program.tiers.at(now)
        qual_month = calendar.month_key(now, program.timezone)
        goods = sum((x.paid for x in earning.lines), Decimal(0))
        qualifying = Qualification(qual_month, earning.points,
                                   goods if counts_spend(ladder, order.currency) else None)
        ledger = MemberLedger(self.tenant, member_id, now, program)
        entry_key = ledger.entry_key()
        pending = earning.points > 0
        record = OrderRecord(
            ledger.pk, keys.order_sk(order.id), order_id=order.id, member_id=member_id,
            ordered_at=order.ordered_at.isoformat(), currency=order.currency,
            lines=rules.lines_to_json(earning.lines), points=earning.points, pending_points=earning.points,
            status="PENDING" if pending else "RELEASED",
            delivered_at=order.delivered_at.isoformat() if order.delivered_at else None,
            release_at=earning.release_at.isoformat(), earn_entry=entry_key if pending else None,
            qual_month=qual_month)
        if pending:
            record.GSI2PK = keys.due_pk(self.tenant, "RELEASE")
            record.GSI2SK = f"{earning.release_at.isoformat()}#{member_id}#{order.id}"

        def build(known):
            tx = Transaction()
            tx.put("order", record, OrderRecord.PK.does_not_exist())
            tx.update("owner", OrderOwner(keys.order_pk(self.tenant, order.id), OWNER_SK),
                      [OrderOwner.member_id.set(member_id), OrderOwner.email.set(order.email or "")]
                      if order.email else [OrderOwner.member_id.set(member_id)],
                      OrderOwner.member_id.does_not_exist())
            if audit is not None:
                tx.put("audit", audit)  # a staff assignment is recorded with the credit, or not at all
            if order.delivered_at:
                tx.put("delivered", _delivered_event(self.tenant, ledger.pk, member_id, order.id, order.delivered_at))
            if claim_from:
                tx.delete("unclaimed", UnclaimedOrder(keys.email_pk(self.tenant, claim_from),
                                                      f"{UNCLAIMED_PREFIX}{order.id}"))
            change = Change(hold(earning.points), EntryType.EARN, EntryStatus.PENDING,
                            reason="Order", source=f"order:{order.id}", order_id=order.id,
                            event="points.earned", qualifying=qualifying,
                            event_detail={"orderId": order.id, "status": "PENDING",
                                          "releaseAt": earning.release_at.isoformat(), "currency": order.currency,
                                          "amount": str(goods), "categories": _categories(earning.lines)})
            if pending:
                ledger.add(tx, change, known, entry_key=entry_key)
            else:
                tx.check("profile", MemberProfile, ledger.pk, keys.PROFILE, MemberProfile.PK.exists())
            return tx

        try:
            post(build)
        except TransactionCancelled as c:
            if c.failed_on("order") or c.failed_on("owner"):
                if order.delivered_at and self._record_delivery(member_id, order.id, order.delivered_at, program):
                    return OrderResult(OrderOutcome.DELIVERY_RECORDED, order.id, member_id)
                return OrderResult(OrderOutcome.DUPLICATE, order.id, member_id)
            raise
        return OrderResult(OrderOutcome.CREDITED, order.id, member_id, earning.points)

    def deliver(self, order_id: str, delivered_at: datetime) -> OrderResult:
        owner = self.owner(order_id)
        if owner is None:
            raise UserError(ErrorCode.NOT_FOUND, "No such order.", "orderId")
        if owner.member_id is None:
            self._deliver_unclaimed(owner.email or "", order_id, delivered_at)
            return OrderResult(OrderOutcome.HELD_FOR_ENROLLMENT, order_id)
        moved = self._record_delivery(owner.member_id, order_id, delivered_at, self.programs.program())
        return OrderResult(OrderOutcome.DELIVERY_RECORDED if moved else OrderOutcome.DUPLICATE, order_id,
                           owner.member_id)

    @guarded  # read, then a conditioned update: safe to repeat as a whole
    def _record_delivery(self, member_id: str, order_id: str, delivered_at: datetime, program) -> bool:
        """Record the delivery once: while the points are still pending the return window starts there;
        an order whose points were released already (or that earned none) only records the date. Either
        way `order.delivered` goes out with it (the unboxing invite follows from it)."""
        record = self.record_of(member_id, order_id)
        if record is None or record.delivered_at:
            return False
        tx = Transaction()
        if record.status == "PENDING":
            categories = [x.category for x in rules.lines_from_json(record.lines)]
            release = rules.release_after_delivery(categories, program, delivered_at)
            tx.update("order", record, [
                OrderRecord.delivered_at.set(delivered_at.isoformat()),
                OrderRecord.release_at.set(release.isoformat()),
                OrderRecord.GSI2SK.set(f"{release.isoformat()}#{member_id}#{order_id}"),
                OrderRecord.version.add(1)],
                (OrderRecord.status == "PENDING") & OrderRecord.delivered_at.does_not_exist())
        else:
            tx.update("order", record, [OrderRecord.delivered_at.set(delivered_at.isoformat()),
                                        OrderRecord.version.add(1)],
                      (OrderRecord.status == record.status) & OrderRecord.delivered_at.does_not_exist())
        # The member may now post about it (infra/posts/listener.py: the unboxing invite).
        tx.put("delivered", _delivered_event(self.tenant, record.PK, member_id, order_id, delivered_at))
        try:
            tx.commit()
        except TransactionCancelled as c:
            if c.failed_on("order"):
                return False  # someone else recorded the delivery, or the points were released meanwhile
            raise
        return True

    # -- orders waiting for an email to enroll ------------------------------------------------
    def _hold_for_email(self, order: Order, now: datetime) -> OrderResult:
        assert order.email
        tx = Transaction()
        tx.put("unclaimed", UnclaimedOrder(keys.email_pk(self.tenant, order.email), f"{UNCLAIMED_PREFIX}{order.id}",
                                           order_id=order.id, order=rules.order_to_dict(order), refunds=[],
                                           created_at=now.isoformat()), UnclaimedOrder.PK.does_not_exist())
        tx.put("owner", OrderOwner(keys.order_pk(self.tenant, order.id), OWNER_SK, email=order.email),
               OrderOwner.PK.does_not_exist())
        # If the email was claimed meanwhile, credit the member instead (the check fails, we retry).
        tx.check("member", EmailClaim, keys.email_pk(self.tenant, order.email), "MEMBER", EmailClaim.PK.does_not_exist())
        try:
            tx.commit()
        except TransactionCancelled as c:
            if c.failed_on("member"):
                return self.record(order, now)
            if c.failed_on("unclaimed") or c.failed_on("owner"):
                if order.delivered_at:
                    self._deliver_unclaimed(order.email, order.id, order.delivered_at)
                return OrderResult(OrderOutcome.DUPLICATE, order.id)
            raise
        return OrderResult(OrderOutcome.HELD_FOR_ENROLLMENT, order.id)

    @guarded
    def _deliver_unclaimed(self, email: str, order_id: str, delivered_at: datetime) -> None:
        try:
            item = UnclaimedOrder.get(keys.email_pk(self.tenant, email), f"{UNCLAIMED_PREFIX}{order_id}")
        except UnclaimedOrder.DoesNotExist:
            return
        if not item.order.get("deliveredAt"):
            item.update(actions=[UnclaimedOrder.order.set({**item.order, "deliveredAt": delivered_at.isoformat()})])

    def assign(self, order_id: str, member_id: str, now: datetime, audit: AuditEntry) -> OrderResult:
        """Staff credit a held guest order to a member (the customer proved it is theirs another way)."""
        owner = self.owner(order_id)
        if owner is None:
            raise UserError(ErrorCode.NOT_FOUND, "No order with this id is known.", "orderId")
        if owner.member_id:
            if owner.member_id == member_id:
                return OrderResult(OrderOutcome.DUPLICATE, order_id, member_id)
            raise UserError(ErrorCode.CONFLICT, "This order was already credited to another member.", "orderId")
        email = owner.email or ""
        item = call(lambda: next(iter(UnclaimedOrder.query(
            keys.email_pk(self.tenant, email), UnclaimedOrder.SK == f"{UNCLAIMED_PREFIX}{order_id}",
            consistent_read=True)), None), what="a held order")
        if item is None:
            raise UserError(ErrorCode.NOT_FOUND, "No order with this id is waiting for a member.", "orderId")
        if self._profile(member_id) is None:
            raise UserError(ErrorCode.NOT_ENROLLED, "This member has not enrolled.", "memberId")
        return self._claim_held(item, member_id, email, now, audit)

    def claim_for(self, member_id: str, email: str, now: datetime) -> list[OrderResult]:
        """Credit the orders placed with this email before the member enrolled. A held order stays
        held until everything it carries is applied: a fault midway leaves it for the retry, which
        finds the credit done (DUPLICATE) and applies what is left, each refund once by its id."""
        pk = keys.email_pk(self.tenant, email)
        held = call(lambda: list(UnclaimedOrder.query(pk, UnclaimedOrder.SK.startswith(UNCLAIMED_PREFIX),
                                                      consistent_read=True)), what="unclaimed orders")
        return [self._claim_held(item, member_id, email, now) for item in held]

    def _claim_held(self, item: UnclaimedOrder, member_id: str, email: str, now: datetime,
                    audit: AuditEntry | None = None) -> OrderResult:
        """A held order becomes the member's. It stays held until everything it carries is applied: a
        fault midway leaves it for the retry, which finds the credit done (DUPLICATE) and applies what
        is left, each refund once by its id."""
        order = replace(rules.order_from_dict(item.order), member_id=member_id)
        # Without refunds, the credit and the release of the held order are one transaction.
        together = not item.refunds
        result = self.record(order, now, claim_from=email if together else None, audit=audit)
        if result.outcome not in (OrderOutcome.CREDITED, OrderOutcome.DUPLICATE, OrderOutcome.DELIVERY_RECORDED):
            return result
        for r in item.refunds:
            held = return_request_from_dict(r)
            try:
                self.process_return(held, now)
            except ReturnRefused as refused:
                # Held refunds were checked when they were noted; one that does not fit the credited
                # order (noted before returns were checked) can never apply and must not block the claim.
                log.warning("held return %s of order %s does not fit the order and is dropped: %s",
                            held.return_id, held.order_id, [(e.field, e.code.value) for e in refused.errors])
        if not (together and result.outcome is OrderOutcome.CREDITED):
            call(lambda: item.delete(), what="release a held order")
        return result

    # -- refunds and returns --------------------------------------------------------------------
    def process_return(self, req: ReturnRequest, now: datetime) -> ReturnResult:
        """Apply a return once (by its id), checked against what is left of each line of the order.

        What is left is in the order item the return reads anyway; the write is one transaction
        conditioned on the order's `version`, so two returns at once that each fit but together do
        not can never both land: the second is checked again against the first and refused. A
        refused return writes nothing; the read of its mark (was it applied before? then it is a
        replay) happens only then."""
        owner = self.owner(req.order_id)
        if owner is None:  # with the return's own mistakes, all at once
            raise UserErrors([UserError(ErrorCode.NOT_FOUND, "No such order.", "orderId"),
                              *rules.return_shape_problems(req.lines)])
        if owner.member_id is None:
            noted = self._note_unclaimed_return(owner.email or "", req)
            if noted is not None:
                return noted
            owner = self.owner(req.order_id)  # the member enrolled and claimed the order meanwhile
            if owner is None or owner.member_id is None:
                raise UserError(ErrorCode.NOT_FOUND, "No such order.", "orderId")
        member_id = owner.member_id
        program = self.programs.program()
        # An exchange is a return too: it counts in the rate that may decide its bonus.
        rate = (self.return_rate(member_id, now, also_returned=req.order_id)
                if rules.return_rate_decides(req.resolution, program) else None)
        reverse_lines, bonus = rules.points_for_return(req.resolution, program, rate)
        ledger = MemberLedger(self.tenant, member_id, now, program)
        mark = SourceMark(ledger.pk, f"{keys.SOURCE_PREFIX}return#{req.return_id}", cause=f"return:{req.return_id}",
                          created_at=now.isoformat())
        for _ in range(8):
            record = self.record_of(member_id, req.order_id)
            if record is None:
                raise UserError(ErrorCode.NOT_FOUND, "No such order.", "orderId")
            lines = rules.lines_from_json(record.lines)
            try:
                reversal = rules.apply_return(lines, req.lines, req.resolution, reverse_lines)
            except ReturnRefused:
                if self._returned_before(mark):
                    return ReturnResult(req.order_id, member_id, 0, 0, duplicate=True, lines=lines)
                raise
            profile = self._profile(member_id)
            if profile is None:
                raise UserError(ErrorCode.NOT_FOUND, "No such order.", "orderId")
            known = profile_balance(profile)
            qualifying, retain = self._qualification_back(record, req, reversal.points, profile, program, now)
            tx = Transaction()
            tx.put("mark", mark, SourceMark.PK.does_not_exist())
            record_actions = [OrderRecord.lines.set(rules.lines_to_json(reversal.lines)),
                              OrderRecord.returned.set(True), OrderRecord.version.add(1)]
            if reversal.points:
                # A released order keeps its old `pendingPoints`; none of the member's pending is its own.
                held = int(record.pending_points) if record.status == "PENDING" else 0
                movement = reverse(known, reversal.points, held)
                left_pending = held + movement.pending
                record_actions.append(OrderRecord.pending_points.set(left_pending))
                if record.status == "PENDING" and left_pending == 0:
                    record_actions += [OrderRecord.status.set("RELEASED"), OrderRecord.GSI2PK.remove(),
                                       OrderRecord.GSI2SK.remove()]
                    if record.earn_entry:
                        tx.update("earn-entry", LedgerEntry(ledger.pk, record.earn_entry),
                                  [LedgerEntry.status.set(EntryStatus.POSTED.value)])
                ledger.add(tx, Change(movement, EntryType.REVERSAL, reason=f"{req.resolution.value.lower()} "
                                      f"{req.return_id}", source=f"return:{req.return_id}", order_id=req.order_id,
                                      activity=False, event="points.reversed", qualifying=qualifying,
                                      event_detail={"orderId": req.order_id, "returnId": req.return_id,
                                                    "currency": record.currency,
                                                    "amount": str(sum((x.amount for x in req.lines), Decimal(0)))}),
                           known, extra_condition=MemberProfile.version == profile.version if retain else None,
                           extra_actions=retain)
            elif bonus:
                ledger.add(tx, Change(credit(known, bonus), EntryType.BONUS, reason="Chose an exchange",
                                      source=f"return:{req.return_id}", order_id=req.order_id,
                                      event="points.earned", event_detail={"returnId": req.return_id}), known)
            # The guard against concurrent returns: what is left was computed from this version.
            tx.update("order", record, record_actions, OrderRecord.version == record.version)
            try:
                tx.commit()
            except TransactionCancelled as c:
                if c.failed_on("mark"):
                    return ReturnResult(req.order_id, member_id, 0, 0, duplicate=True, lines=lines)
                continue  # the order or balance moved meanwhile: read again
            return ReturnResult(req.order_id, member_id, reversal.points, 0 if reversal.points else bonus,
                                lines=reversal.lines)
        raise UserError(ErrorCode.CONFLICT, "The order kept changing; try again.")

    def _qualification_back(self, record: OrderRecord, req: ReturnRequest, points: int, profile: MemberProfile,
                            program: Program, now: datetime) -> tuple[Qualification | None, list | None]:
        """What a return takes back from tier qualification (from the month the order counted in; orders
        credited before qualification was kept take nothing back), and, when that would lower the
        member's tier mid-period, the actions that retain the tier until the period ends instead."""
        if not record.qual_month or not points:
            return None, None
        ladder = program.tiers.at(now)
        money = sum((x.amount for x in req.lines), Decimal(0))
        q = Qualification(record.qual_month, -points, -money if counts_spend(ladder, record.currency) else None)
        if ladder is None:
            return q, None
        before = state_of(profile)
        after = replace(before, points={**before.points, q.month: before.points.get(q.month, 0) + q.points},
                        points_all=before.points_all + q.points,
                        spend={**before.spend, q.month: before.spend.get(q.month, Decimal(0)) + (q.spend or 0)},
                        spend_all=before.spend_all + (q.spend or 0))
        kept = retain_before_drop(before, after, ladder, program.timezone, now)
        if kept is None:
            return q, None
        return q, stored_actions(before, kept)

    @guarded
    def _returned_before(self, mark: SourceMark) -> bool:
        try:
            SourceMark.get(mark.PK, mark.SK, consistent_read=True)
        except SourceMark.DoesNotExist:
            return False
        return True

    def _note_unclaimed_return(self, email: str, req: ReturnRequest) -> ReturnResult | None:
        """A return of an order held for enrollment is kept with it, checked against the held order's
        lines and the returns kept before; the update is conditioned on that list, so two at once
        cannot both fit in what only one fits in."""
        program = self.programs.program()
        for _ in range(8):
            try:
                item = call(lambda: UnclaimedOrder.get(keys.email_pk(self.tenant, email),
                                                       f"{UNCLAIMED_PREFIX}{req.order_id}", consistent_read=True),
                            what="a held order")
            except UnclaimedOrder.DoesNotExist:
                return None
            lines = held_lines(item, program)
            if any(r["returnId"] == req.return_id for r in item.refunds):
                return ReturnResult(req.order_id, "", 0, 0, duplicate=True, lines=lines)
            after = rules.apply_return(lines, req.lines, req.resolution, True).lines
            try:
                call(lambda: item.update(actions=[UnclaimedOrder.refunds.set([*item.refunds,
                                                                              return_request_to_dict(req)])],
                                         condition=UnclaimedOrder.refunds == item.refunds),
                     what="keep a held return")
            except UpdateError as e:
                if e.cause_response_code == "ConditionalCheckFailedException":
                    continue  # another return was kept meanwhile: check against it too
                raise
            return ReturnResult(req.order_id, "", 0, 0, lines=after)
        raise UserError(ErrorCode.CONFLICT, "The order kept changing; try again.")

    def check_listed_returns(self, order: Order, returns: tuple[ReturnRequest, ...]) -> list[tuple[int, UserError]]:
        """Problems of returns listed with an order (a webhook's refunds), checked together against the
        order's own lines before anything is written: (which return, its problem)."""
        lines = rules.order_lines(order, self.programs.program())
        problems: list[tuple[int, UserError]] = []
        for i, req in enumerate(returns):
            try:
                lines = rules.apply_return(lines, req.lines, req.resolution, False).lines
            except ReturnRefused as e:
                problems += [(i, x) for x in e.errors]
        return problems

    def return_rate(self, member_id: str, now: datetime, also_returned: str | None = None) -> rules.ReturnRate:
        program = self.programs.program()
        records = call(lambda: list(OrderRecord.query(keys.member_pk(self.tenant, member_id),
                                                      OrderRecord.SK.startswith(f"{keys.SOURCE_PREFIX}order#"))),
                       what="order records")
        summaries = [rules.OrderSummary(datetime.fromisoformat(r.ordered_at),
                                        bool(r.returned) or r.order_id == also_returned) for r in records]
        return rules.return_rate(summaries, now, program.return_rate_window_days)

    @guarded
    def _profile(self, member_id: str) -> MemberProfile | None:
        try:
            return MemberProfile.get(keys.member_pk(self.tenant, member_id), keys.PROFILE, consistent_read=True)
        except MemberProfile.DoesNotExist:
            return None


def _delivered_event(tenant: str, pk: str, member_id: str, order_id: str, delivered_at: datetime) -> OutboxEvent:
    """`order.delivered`, in the transaction that records the delivery (once per order: both writers are
    conditioned on the order not being delivered before). Outbox time and TTL run from now, not from the
    delivery date, which may lie in the past."""
    now = datetime.now(timezone.utc)
    return outbox_event(tenant, pk, "order.delivered", {"memberId": member_id, "orderId": order_id,
                                                         "deliveredAt": delivered_at.isoformat()},
                        now.isoformat(), int(now.timestamp()))


def _categories(lines: tuple[LinePoints, ...]) -> list[str]:
    """The order's distinct categories, as challenges count them ("three categories this season")."""
    seen: dict[str, str] = {}
    for x in lines:
        if x.category and x.category.strip().casefold() not in seen:
            seen[x.category.strip().casefold()] = x.category.strip()
    return list(seen.values())[:50]


def held_lines(item: UnclaimedOrder, program: Program) -> tuple[LinePoints, ...]:
    """A held order's lines with the returns kept with it applied: what is left of each."""
    lines = rules.order_lines(rules.order_from_dict(item.order), program)
    for r in item.refunds:
        kept = return_request_from_dict(r)
        try:
            lines = rules.apply_return(lines, kept.lines, kept.resolution, False).lines
        except ReturnRefused:
            pass  # kept before returns were checked: it will be dropped when the order is claimed
    return lines


def return_request_to_dict(r: ReturnRequest) -> dict:
    return {"orderId": r.order_id, "returnId": r.return_id, "resolution": r.resolution.value,
            "lines": [{"lineId": x.line_id, "amount": str(x.amount)} | ({"quantity": x.quantity}
                                                                         if x.quantity is not None else {})
                      for x in r.lines]}


def return_request_from_dict(d: dict) -> ReturnRequest:
    return ReturnRequest(order_id=d["orderId"], return_id=d["returnId"],
                         resolution=rules.ReturnResolution(d["resolution"]),
                         lines=tuple(rules.ReturnedLine(x["lineId"], Decimal(x["amount"]),
                                                        int(x["quantity"]) if x.get("quantity") is not None else None)
                                     for x in d["lines"]))
