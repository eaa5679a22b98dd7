"""What an award or a completed challenge writes, in the transaction that decides it:

- `BADGE#<id>` in the member partition, `attribute_not_exists`: a badge is held once, however many
  events (or runs) decide it at the same time; the losers' transactions fail on it and read again;
- for points (a badge's bonus, a challenge's reward) one `SRC#badge:<id>` / `SRC#challenge:<id>` mark
  each (`attribute_not_exists`: one credit per cause) and one ledger credit of their sum through
  `MemberLedger` (EntryType BONUS, not an activity, qualifying nothing): DynamoDB takes one update of
  the profile per transaction, so several rewards decided by one event share one entry;
- an outbox event per award (`badge.awarded`) and per completion (`challenge.completed`), or, for a
  backfill, one `badge.backfilled` summary per member instead.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from domain.badges.definitions import Badge
from domain.challenges.definitions import Challenge
from domain.points.balance import Balance, EntryType, credit
from infra import keys
from infra.badges.items import BADGE_PREFIX, BadgeAward
from infra.members import outbox_event
from infra.points.items import SourceMark
from infra.points.ledger import Change, MemberLedger
from infra.transaction import Transaction

MAX_AWARDS_PER_TRANSACTION = 20  # 3 items each, plus the ledger's 4 and the caller's few: under DynamoDB's 100


@dataclass(frozen=True)
class Award:
    badge: Badge
    earned_at: datetime
    cause: str
    backfilled: bool = False


def badge_source(badge_id: str) -> str:
    return f"badge:{badge_id}"


def challenge_source(challenge_id: str) -> str:
    return f"challenge:{challenge_id}"


def add_rewards(tx: Transaction, ledger: MemberLedger, known: Balance, awards: list[Award],
                completed: list[Challenge], *, announce: bool = True) -> int:
    """Add the parts above to `tx`; returns the points credited. Labels: `badge:<id>` for each award."""
    pk, now_iso, now_epoch = ledger.pk, ledger.now_iso, int(ledger.now.timestamp())
    sources: list[str] = []
    points = 0
    for a in awards:
        tx.put(f"badge:{a.badge.id}", BadgeAward(pk, f"{BADGE_PREFIX}{a.badge.id}", badge_id=a.badge.id,
                                                 earned_at=a.earned_at.isoformat(), cause=a.cause,
                                                 backfilled=a.backfilled), BadgeAward.PK.does_not_exist())
        if a.badge.bonus_points:
            sources.append(badge_source(a.badge.id))
            points += a.badge.bonus_points
        if announce:
            tx.put(f"event:badge:{a.badge.id}", outbox_event(ledger.tenant, pk, "badge.awarded", {
                "memberId": ledger.member_id, "badgeId": a.badge.id, "earnedAt": a.earned_at.isoformat(),
                "cause": a.cause, "bonusPoints": a.badge.bonus_points}, now_iso, now_epoch))
    for c in completed:
        if c.reward_points:
            sources.append(challenge_source(c.id))
            points += c.reward_points
        tx.put(f"event:challenge:{c.id}", outbox_event(ledger.tenant, pk, "challenge.completed", {
            "memberId": ledger.member_id, "challengeId": c.id, "rewardPoints": c.reward_points,
            "rewardBadge": c.reward_badge}, now_iso, now_epoch))
    for source in sources:
        tx.put(f"src:{source}", SourceMark(pk, f"{keys.SOURCE_PREFIX}{source}", cause=source, created_at=now_iso),
               SourceMark.PK.does_not_exist())
    if points:
        names = [a.badge.name for a in awards if a.badge.bonus_points] + [c.name for c in completed if c.reward_points]
        ledger.add(tx, Change(credit(known, points), EntryType.BONUS, reason=", ".join(names)[:200],
                              source=" ".join(sources)[:900], activity=False, event="points.earned",
                              event_detail={"rewards": sources, "qualifying": 0}), known)
    return points
