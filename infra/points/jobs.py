"""Scheduled work, found through the due-date index (GSI2), never a Scan: release pending points
when return windows close, expire lots, expire after inactivity, and warn before expiry."""
from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Callable

from domain.errors import UserError
from domain.points import lots as lot_rules
from domain.points.actions import BIRTHDAY, birthday_days
from domain.points.balance import EntryStatus, EntryType, Movement, release
from infra import keys
from infra.dynamo_errors import call
from infra.items import MemberProfile, TableItem, read_partition
from infra.members import Members, outbox_event
from infra.points.adjustments import ActionCredits
from infra.points.orders import OrderBook
from infra.points.items import LedgerEntry, OrderRecord, PointLot
from infra.points.ledger import Change, MemberLedger, profile_balance
from infra.points.program_store import ProgramStore
from infra.transaction import Transaction, TransactionCancelled

log = logging.getLogger("kizuna.jobs")
ATTEMPTS = 5


@dataclass
class JobReport:
    job: str
    tenant: str
    processed: int = 0
    points: int = 0
    skipped: int = 0
    errors: list[str] = field(default_factory=list)


def _due(tenant: str, job: str, until: datetime, since: datetime | None = None):
    pk = keys.due_pk(tenant, job)
    condition = TableItem.GSI2SK.between(since.isoformat(), until.isoformat() + "~") if since \
        else TableItem.GSI2SK <= until.isoformat() + "~"
    return call(lambda: list(TableItem.due.query(pk, condition)), what=f"due {job}")


def _left_in(lots: list[PointLot], consumed: int, lot_key: str) -> int:
    """What one lot has left, walking all of the member's lots oldest-expiring first."""
    walked = lot_rules.what_is_left(
        [lot_rules.Lot(x.SK, int(x.points), datetime.fromisoformat(x.earned_at), None) for x in lots], consumed)
    return next((x.left for x in walked if x.lot.key == lot_key), 0)


class PointsJobs:
    def __init__(self, tenant: str, programs: ProgramStore):
        self.tenant = tenant
        self.programs = programs

    def _card(self, member_id: str) -> tuple[MemberProfile | None, list[PointLot]]:
        items = call(lambda: read_partition(keys.member_pk(self.tenant, member_id),
                                            TableItem.SK.between(keys.DASHBOARD_FROM, keys.DASHBOARD_TO)),
                     what="member card")
        profile = next((i for i in items if isinstance(i, MemberProfile)), None)
        return profile, [i for i in items if isinstance(i, PointLot)]

    def _settle(self, report: JobReport, what: str,
                attempt: Callable[[], tuple[Transaction, int] | None]) -> None:
        """Read, decide and commit one item; when it moved meanwhile, read again (a few times)."""
        for _ in range(ATTEMPTS):
            planned = attempt()
            if planned is None:
                report.skipped += 1
                return
            tx, points = planned
            try:
                tx.commit()
            except TransactionCancelled:
                continue
            report.processed += 1
            report.points += points
            return
        report.errors.append(f"{what} kept changing")

    # -- pending -> available ----------------------------------------------------------------------
    def release_due(self, now: datetime) -> JobReport:
        report = JobReport("release", self.tenant)
        program = self.programs.program()

        def attempt(item: OrderRecord) -> tuple[Transaction, int] | None:
            record = call(lambda: OrderRecord.get(item.PK, item.SK, consistent_read=True), what="order record")
            if record.status != "PENDING" or datetime.fromisoformat(record.release_at) > now:
                return None
            profile, _lots = self._card(record.member_id)
            if profile is None:
                return None
            known = profile_balance(profile)
            points = int(record.pending_points)
            tx = Transaction()
            tx.update("order", record, [OrderRecord.status.set("RELEASED"), OrderRecord.GSI2PK.remove(),
                                        OrderRecord.GSI2SK.remove(), OrderRecord.version.add(1)],
                      (OrderRecord.version == record.version) & (OrderRecord.status == "PENDING"))
            if record.earn_entry:
                tx.update("earn-entry", LedgerEntry(record.PK, record.earn_entry),
                          [LedgerEntry.status.set(EntryStatus.POSTED.value)])
            if points:
                MemberLedger(self.tenant, record.member_id, now, program).add(
                    tx, Change(release(known, points), EntryType.EARN, activity=False, event="points.released",
                               event_detail={"orderId": record.order_id}), known)
            return tx, points

        for item in _due(self.tenant, "RELEASE", now):
            if isinstance(item, OrderRecord):
                self._settle(report, f"order {item.SK}", lambda item=item: attempt(item))
        return report

    # -- lots that reach their expiry date -------------------------------------------------------------
    def expire_due(self, now: datetime) -> JobReport:
        report = JobReport("expire", self.tenant)
        program = self.programs.program()

        def attempt(item: PointLot) -> tuple[Transaction, int] | None:
            profile, lots = self._card(item.member_id)
            lot = next((x for x in lots if x.SK == item.SK), None)
            if profile is None or lot is None:
                return None
            known = profile_balance(profile)
            consumed = int(profile.lots_consumed)
            left = _left_in(lots, consumed, lot.SK)
            # The lot goes away: what was left expires, and `consumed` drops by the whole lot.
            movement = Movement(available=-left, consumed=left - int(lot.points))
            tx = Transaction()
            tx.delete("lot", lot, PointLot.PK.exists())
            MemberLedger(self.tenant, item.member_id, now, program).add(
                tx, Change(movement, EntryType.EXPIRY, reason="Points expired", activity=False,
                           event="points.expired" if left else None), known,
                extra_condition=MemberProfile.lots_consumed == consumed)
            return tx, left

        for item in _due(self.tenant, "EXPIRE", now):
            if isinstance(item, PointLot):
                self._settle(report, f"lot {item.SK}", lambda item=item: attempt(item))
        return report

    # -- everything, after months without activity -----------------------------------------------------
    def expire_inactive(self, now: datetime) -> JobReport:
        report = JobReport("inactivity", self.tenant)
        program = self.programs.program()

        def attempt(item: MemberProfile) -> tuple[Transaction, int] | None:
            profile, lots = self._card(item.member_id)
            if profile is None or profile.GSI2SK is None or profile.GSI2SK > now.isoformat() + "~":
                return None
            known = profile_balance(profile)
            movement = Movement(available=-known.available, consumed=-int(profile.lots_consumed))
            tx = Transaction()
            for lot in lots:
                tx.delete(f"lot:{lot.SK}", lot)
            MemberLedger(self.tenant, item.member_id, now, program).add(
                tx, Change(movement, EntryType.EXPIRY, reason="Points expired after inactivity", activity=False,
                           event="points.expired" if known.available else None), known,
                extra_condition=(MemberProfile.lots_consumed == int(profile.lots_consumed))
                & (MemberProfile.last_activity_at == profile.last_activity_at)
                & (MemberProfile.available == known.available),
                extra_actions=[MemberProfile.GSI2PK.remove(), MemberProfile.GSI2SK.remove()])
            return tx, known.available

        for item in _due(self.tenant, "INACTIVE", now):
            if isinstance(item, MemberProfile):
                self._settle(report, f"member {item.member_id}", lambda item=item: attempt(item))
        return report

    # -- birthday points ------------------------------------------------------------------------------
    def birthdays(self, now: datetime) -> JobReport:
        """Credit the `birthday` action rule, once a year, to members whose birthday is today on the brand's
        calendar. Run once a day at any fixed hour, it meets every local day exactly once."""
        report = JobReport("birthdays", self.tenant)
        program = self.programs.program()
        if not any(r.action == BIRTHDAY for r in program.actions):
            return report
        today = program.local_time(now)
        credits = ActionCredits(self.tenant, self.programs, OrderBook(self.tenant, self.programs))
        members = Members(self.tenant)
        for day in birthday_days(today):
            for member_id in members.birthdays_on(day):
                try:
                    report.points += credits.record(member_id, BIRTHDAY, str(today.year), now)
                    report.processed += 1
                except UserError:
                    report.skipped += 1  # credited already this year, or capped
        return report

    # -- "your points expire soon" -------------------------------------------------------------------
    def remind_expiring(self, now: datetime) -> JobReport:
        report = JobReport("remind", self.tenant)
        program = self.programs.program()
        horizon = now + timedelta(days=program.expiring_soon_days)
        for item in _due(self.tenant, "EXPIRE", horizon, since=now):
            if not isinstance(item, PointLot) or item.reminded:
                continue
            profile, lots = self._card(item.member_id)
            if profile is None:
                continue
            left = _left_in(lots, int(profile.lots_consumed), item.SK)
            if left <= 0:
                continue
            tx = Transaction()
            tx.update("lot", item, [PointLot.reminded.set(True)], PointLot.reminded == False)  # noqa: E712
            tx.put("event", outbox_event(self.tenant, item.PK, "points.expiring_soon",
                                         {"memberId": item.member_id, "points": left, "expiresOn": item.expires_on},
                                         now.isoformat(), int(now.timestamp())))
            try:
                tx.commit()
            except TransactionCancelled:
                continue
            report.processed += 1
            report.points += left
        return report
