"""The tier's birthday gift: the BIRTHDAY_GIFT benefit of the tier a member holds on their birthday,
credited by the birthday job once per member and year (source mark `SRC#tier-birthday:<year>`)."""
from __future__ import annotations

from datetime import datetime

from domain.points.balance import Balance, EntryType, credit
from infra import keys
from infra.dynamo_errors import call
from infra.items import MemberProfile
from infra.points.items import SourceMark
from infra.points.ledger import Change, MemberLedger, post
from infra.points.program_store import ProgramStore
from infra.tiers.standing import member_standing
from infra.transaction import Transaction, TransactionCancelled


def gifts_exist(programs: ProgramStore, now: datetime) -> bool:
    ladder = programs.program().tiers.at(now)
    return ladder is not None and any(t.birthday_gift() for t in ladder.tiers)


def credit_birthday_gift(tenant: str, programs: ProgramStore, member_id: str, year: int, now: datetime) -> int:
    """Points credited (0: no gift for the member's tier, or given already this year)."""
    program = programs.program()
    try:
        profile = call(lambda: MemberProfile.get(keys.member_pk(tenant, member_id), keys.PROFILE,
                                                 consistent_read=True), what="member")
    except MemberProfile.DoesNotExist:
        return 0
    standing = member_standing(profile, program, now)
    tier = standing.tier if standing else None
    points = tier.birthday_gift() if tier else 0
    if points <= 0:
        return 0
    ledger = MemberLedger(tenant, member_id, now, program)
    cause = f"tier-birthday:{year}"

    def build(known: Balance) -> Transaction:
        tx = Transaction()
        tx.put("source", SourceMark(ledger.pk, f"{keys.SOURCE_PREFIX}{cause}", cause=cause, created_at=now.isoformat()),
               SourceMark.PK.does_not_exist())
        ledger.add(tx, Change(credit(known, points), EntryType.BONUS, reason=f"{tier.name} birthday gift", source=cause,
                              activity=False, event="points.earned", event_detail={"tier": tier.id, "birthday": year}),
                   known)
        return tx

    try:
        post(build)
    except TransactionCancelled as c:
        if c.failed_on("source"):
            return 0
        raise
    return points
