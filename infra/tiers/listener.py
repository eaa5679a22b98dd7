"""Listeners of the tier part (registered in infra/events/listeners.py).

- `TierAnnouncer` hears qualifying points changes. A credit changes the tier as it commits (the tier is
  computed from qualification); this records that change once: the history entry with the credit that
  crossed the threshold, the `tier.changed` event, and `tierAnnounced`, conditioned on the tier last
  announced. Events that moved no qualification are skipped without a read.
- `TierEntryBenefits` hears `tier.changed` upward and credits the tier's entry points once per member
  and tier, ever (source mark `SRC#tier-entry:<tier>`): a member who drops and climbs back, or is
  re-tiered by a recalculation, is not paid twice.
"""
from __future__ import annotations

import logging

from domain.points.balance import Balance, EntryType, credit
from infra import keys
from infra.events.model import Env, Event, register
from infra.items import MemberProfile
from infra.points.items import SourceMark
from infra.points.ledger import Change, MemberLedger, post
from infra.tiers.history import Announcement, announce
from infra.tiers.standing import member_standing
from infra.transaction import Transaction, TransactionCancelled

log = logging.getLogger("kizuna.tiers")
ATTEMPTS = 5


class TierAnnouncer:
    name = "tiers"
    event_types = frozenset({"points.earned", "points.adjusted", "points.reversed"})

    def handle(self, event: Event, env: Env) -> None:
        if not event.detail.get("qualifying"):
            return
        program = env.programs(event.tenant).program()
        if program.tiers.at(env.now) is None:
            return
        ladder = program.tiers.at(env.now)
        for _ in range(ATTEMPTS):
            try:
                profile = MemberProfile.get(event.member_pk, keys.PROFILE, consistent_read=True)
            except MemberProfile.DoesNotExist:
                return
            standing = member_standing(profile, program, env.now)
            now_id = standing.tier.id if standing and standing.tier else ""
            if now_id == (profile.tier_announced or ""):
                return
            before = ladder.by_id(profile.tier_announced) if profile.tier_announced else None
            tx = Transaction()
            rose = standing.tier is not None and (before is None or standing.tier.rank > before.rank)
            actions, condition = announce(tx, event.tenant, event.member_id, profile.tier_announced, Announcement(
                before, standing.tier, "CREDIT" if rose else "REVERSAL",
                entry=event.detail.get("entry") if rose else None), env.now)
            tx.update("profile", MemberProfile(event.member_pk, keys.PROFILE), actions, condition)
            try:
                tx.commit()
                return
            except TransactionCancelled as c:
                if c.failed_on("profile"):
                    continue  # announced meanwhile (another credit, the job): look again
                raise


class TierEntryBenefits:
    name = "tier-entry"
    event_types = frozenset({"tier.changed"})

    def handle(self, event: Event, env: Env) -> None:
        d = event.detail
        if not d.get("toTier") or int(d.get("toRank") or 0) <= int(d.get("fromRank") or 0):
            return
        program = env.programs(event.tenant).program()
        ladder = program.tiers.at(env.now) or program.tiers.current
        tier = ladder.by_id(d["toTier"]) if ladder else None
        if tier is None or tier.entry_points <= 0:
            return
        ledger = MemberLedger(event.tenant, event.member_id, env.now, program)
        cause = f"tier-entry:{tier.id}"

        def build(known: Balance) -> Transaction:
            tx = Transaction()
            tx.put("source", SourceMark(ledger.pk, f"{keys.SOURCE_PREFIX}{cause}", cause=cause,
                                        created_at=env.now.isoformat()), SourceMark.PK.does_not_exist())
            ledger.add(tx, Change(credit(known, tier.entry_points), EntryType.BONUS, reason=f"Welcome to {tier.name}",
                                  source=cause, activity=False, event="points.earned",
                                  event_detail={"tier": tier.id}), known)
            return tx

        try:
            post(build)
        except TransactionCancelled as c:
            if c.failed_on("source"):
                return  # given before: entry benefits are once per member and tier
            raise


register(TierAnnouncer())
register(TierEntryBenefits())
