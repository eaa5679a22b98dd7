"""Redeeming rewards for coupons in one transaction, and the storefront's coupon checks."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from domain.errors import ErrorCode, UserError
from domain.points import rewards as rules
from domain.points.balance import Balance, EntryType, credit, spend
from domain.points.rewards import CouponStatus, Reward
from infra import keys
from infra.dynamo_errors import call, guarded
from infra.items import MemberProfile
from infra.pages import Page, page, start_key
from infra.points.items import Coupon, IdempotencyRecord, RewardItem, RewardLimit
from infra.points.ledger import Change, MemberLedger, post
from infra.points.program_store import REWARD_PREFIX, ProgramStore
from infra.tiers.standing import member_standing
from infra.transaction import Transaction, TransactionCancelled

IDEMPOTENCY_TTL_SECONDS = 24 * 3600
CODE_ATTEMPTS = 4


@dataclass(frozen=True)
class Redemption:
    code: str
    member_id: str
    reward: Reward
    points: int
    status: CouponStatus
    created_at: str
    consumed_at: str | None = None
    order_id: str | None = None


def to_redemption(c: Coupon) -> Redemption:
    return Redemption(code=c.code, member_id=c.member_id, reward=rules.reward_from_dict(c.reward), points=int(c.points),
                      status=CouponStatus(c.status), created_at=c.created_at, consumed_at=c.consumed_at,
                      order_id=c.order_id)


class RewardDesk:
    def __init__(self, tenant: str, programs: ProgramStore):
        self.tenant = tenant
        self.programs = programs

    @guarded
    def _member_tier(self, member_id: str, reward: Reward | None, now: datetime) -> tuple[str | None, int]:
        """The member's tier id and its early-access hours, read (one GetItem) only when the reward's
        redemption depends on them; without a ladder, the tier name stored before ladders."""
        program = self.programs.program()
        if reward is None or not rules.tier_matters(reward, now, program.tiers.at(now) is not None):
            return None, 0
        try:
            profile = MemberProfile.get(keys.member_pk(self.tenant, member_id), keys.PROFILE, consistent_read=True)
        except MemberProfile.DoesNotExist:
            return None, 0
        standing = member_standing(profile, program, now)
        if standing is None:
            return profile.tier, 0
        return (standing.tier.id, standing.tier.early_access_hours()) if standing.tier else (None, 0)

    @guarded
    def coupon(self, code: str) -> Coupon | None:
        try:
            return Coupon.get(keys.coupon_pk(self.tenant, code.strip().upper()), "COUPON", consistent_read=True)
        except Coupon.DoesNotExist:
            return None

    def redeem(self, member_id: str, reward_id: str, now: datetime, idempotency_key: str | None = None) -> Redemption:
        """Spend points on a reward: balance, stock, per-member limit and idempotency key are all
        conditions of one transaction, so concurrent redemptions never overspend."""
        key = rules.check_idempotency_key(idempotency_key)
        fingerprint = rules.request_fingerprint({"rewardId": reward_id})
        cached = self.programs.reward(reward_id)
        tier, early_hours = self._member_tier(member_id, cached.reward if cached else None, now)
        for _ in range(3):
            reward = rules.check_redeemable(cached.reward if cached else None, now, early_hours)
            assert cached is not None
            ladder = self.programs.program().tiers.at(now)
            if reward.tier_gate:
                rules.check_tier(reward, tier, ladder)
            try:
                return self._redeem_once(member_id, reward, cached.version, now, key, fingerprint)
            except _StaleReward:
                cached = self.programs.fresh_reward(reward_id)
        raise UserError(ErrorCode.CONFLICT, "The reward keeps changing; try again.")

    def _redeem_once(self, member_id: str, reward: Reward, version: int, now: datetime, key: str | None,
                     fingerprint: str) -> Redemption:
        program = self.programs.program()
        ledger = MemberLedger(self.tenant, member_id, now, program)
        entry_key = ledger.entry_key()
        for _ in range(CODE_ATTEMPTS):
            code = rules.new_coupon_code()
            coupon = Coupon(keys.coupon_pk(self.tenant, code), "COUPON", code=code, member_id=member_id,
                            reward_id=reward.id, reward=rules.reward_to_dict(reward), points=reward.points_cost,
                            status=CouponStatus.ISSUED.value, created_at=now.isoformat(), entry=entry_key,
                            GSI1PK=f"{ledger.pk}#COUPONS", GSI1SK=now.isoformat())

            def build(known: Balance) -> Transaction:
                # First try assumes enough points; a failed balance condition returns the real balance
                # and the domain rule then says "not enough points".
                movement = spend(known, reward.points_cost)
                tx = Transaction()
                reward_cond = (RewardItem.version == version) & (RewardItem.status == "ACTIVE")
                reward_actions = [RewardItem.redeemed.add(1)]
                if reward.stock_total is not None:
                    reward_cond &= RewardItem.stock_left >= 1
                    reward_actions.append(RewardItem.stock_left.add(-1))
                tx.update("reward", RewardItem(self.programs.pk, f"{REWARD_PREFIX}{reward.id}"), reward_actions,
                          reward_cond)
                if reward.per_member_limit is not None:
                    tx.update("limit", RewardLimit(ledger.pk, f"RLIM#{reward.id}"), [RewardLimit.count.add(1)],
                              RewardLimit.count.does_not_exist() | (RewardLimit.count < reward.per_member_limit))
                tx.put("coupon", coupon, Coupon.PK.does_not_exist())
                if key:
                    tx.put("idempotency", IdempotencyRecord(
                        ledger.pk, keys.idempotency_sk(key), fingerprint=fingerprint, result={"code": code},
                        created_at=now.isoformat(), expires_at=int(now.timestamp()) + IDEMPOTENCY_TTL_SECONDS),
                        IdempotencyRecord.PK.does_not_exist())
                    # The same key may have been taken before idempotency records moved out of the
                    # dashboard range (`IDEM#`, kept a day): that redemption is the answer, not a new one.
                    tx.check("idempotency-legacy", IdempotencyRecord, ledger.pk,
                             f"{keys.LEGACY_IDEMPOTENCY_PREFIX}{key}", IdempotencyRecord.PK.does_not_exist())
                ledger.add(tx, Change(movement, EntryType.REDEEM, reason=reward.name, source=f"coupon:{code}",
                                      reward_id=reward.id, coupon_code=code, event="points.redeemed",
                                      event_detail={"rewardId": reward.id, "couponCode": code}), known,
                           entry_key=entry_key, extra_condition=_tier_condition(reward, self.programs.program().tiers.at(now)))
                return tx

            try:
                post(build, assume=Balance(available=reward.points_cost))
            except TransactionCancelled as c:
                if c.failed_on("idempotency"):
                    return self._replay(member_id, keys.idempotency_sk(key or ""), fingerprint)
                if c.failed_on("idempotency-legacy"):
                    return self._replay(member_id, f"{keys.LEGACY_IDEMPOTENCY_PREFIX}{key}", fingerprint)
                if c.failed_on("reward"):
                    old = c.old("reward")
                    if old and int(old.get("version", {}).get("N", version)) != version:
                        raise _StaleReward() from None
                    if old and old.get("status", {}).get("S") != "ACTIVE":
                        raise UserError(ErrorCode.NOT_AVAILABLE, "This reward is not available now.", "rewardId") from None
                    raise UserError(ErrorCode.OUT_OF_STOCK, "This reward is out of stock.", "rewardId") from None
                if c.failed_on("limit"):
                    raise UserError(ErrorCode.LIMIT_REACHED, "You have redeemed this reward as often as allowed.",
                                    "rewardId") from None
                if c.failed_on("coupon"):
                    continue  # a code collision: draw another
                raise
            return to_redemption(coupon)
        raise RuntimeError("could not draw a free coupon code")

    def _replay(self, member_id: str, record_sk: str, fingerprint: str) -> Redemption:
        record = call(lambda: IdempotencyRecord.get(keys.member_pk(self.tenant, member_id), record_sk,
                                                    consistent_read=True),
                      what="idempotency record")
        if record.fingerprint != fingerprint:
            raise UserError(ErrorCode.IDEMPOTENCY_KEY_REUSED,
                            "This idempotency key was used for a different request.", "idempotencyKey")
        coupon = self.coupon(record.result["code"])
        assert coupon is not None
        return to_redemption(coupon)

    # -- the storefront's side ------------------------------------------------------------------
    def validate(self, code: str, now: datetime) -> Redemption:
        coupon = self.coupon(code)
        if coupon is None:
            raise UserError(ErrorCode.NOT_FOUND, "No such coupon.", "code")
        return to_redemption(coupon)

    def consume(self, code: str, order_id: str, now: datetime) -> Redemption:
        coupon = self.coupon(code)
        if coupon is None:
            raise UserError(ErrorCode.NOT_FOUND, "No such coupon.", "code")
        tx = Transaction()
        tx.update("coupon", coupon, [Coupon.status.set(CouponStatus.CONSUMED.value),
                                     Coupon.consumed_at.set(now.isoformat()), Coupon.order_id.set(order_id)],
                  Coupon.status == CouponStatus.ISSUED.value)
        try:
            tx.commit()
        except TransactionCancelled as c:
            status = (c.old("coupon") or {}).get("status", {}).get("S")
            if status == CouponStatus.CANCELLED.value:
                raise UserError(ErrorCode.ALREADY_CANCELLED, "This coupon was cancelled.", "code") from None
            raise UserError(ErrorCode.ALREADY_CONSUMED, "This coupon was used already.", "code") from None
        fresh = self.coupon(code)
        assert fresh is not None
        return to_redemption(fresh)

    def cancel(self, code: str, now: datetime, *, member_id: str | None = None) -> Redemption:
        """An unused coupon is cancelled: its points come back, stock and the member's limit too."""
        coupon = self.coupon(code)
        if coupon is None or (member_id is not None and coupon.member_id != member_id):
            raise UserError(ErrorCode.NOT_FOUND, "No such coupon.", "code")
        if coupon.status != CouponStatus.ISSUED.value:
            code_ = ErrorCode.ALREADY_CONSUMED if coupon.status == CouponStatus.CONSUMED.value else ErrorCode.ALREADY_CANCELLED
            raise UserError(code_, "Only an unused coupon can be cancelled.", "code")
        reward = rules.reward_from_dict(coupon.reward)
        ledger = MemberLedger(self.tenant, coupon.member_id, now, self.programs.program())

        def build(known: Balance) -> Transaction:
            tx = Transaction()
            tx.update("coupon", coupon, [Coupon.status.set(CouponStatus.CANCELLED.value)],
                      Coupon.status == CouponStatus.ISSUED.value)
            reward_actions = [RewardItem.redeemed.add(-1)]
            if reward.stock_total is not None:
                reward_actions.append(RewardItem.stock_left.add(1))
            tx.update("reward", RewardItem(self.programs.pk, f"{REWARD_PREFIX}{reward.id}"), reward_actions,
                      RewardItem.PK.exists())
            if reward.per_member_limit is not None:
                tx.update("limit", RewardLimit(ledger.pk, f"RLIM#{reward.id}"), [RewardLimit.count.add(-1)],
                          RewardLimit.count >= 1)
            ledger.add(tx, Change(credit(known, int(coupon.points), counts_toward_lifetime=False),
                                  EntryType.REDEMPTION_CANCELLED, reason=f"{reward.name} cancelled",
                                  source=f"coupon:{coupon.code}", reward_id=reward.id, coupon_code=coupon.code,
                                  event="points.redemption_cancelled", event_detail={"couponCode": coupon.code}),
                       known)
            return tx

        try:
            post(build)
        except TransactionCancelled as c:
            if c.failed_on("coupon"):
                raise UserError(ErrorCode.ALREADY_CONSUMED, "Only an unused coupon can be cancelled.", "code") from None
            raise
        fresh = self.coupon(code)
        assert fresh is not None
        return to_redemption(fresh)

    def member_coupons(self, member_id: str, first: int, after: dict | None) -> Page:
        gsi_pk = f"{keys.member_pk(self.tenant, member_id)}#COUPONS"
        start = start_key(after, gsi_pk, "GSI1PK")
        return call(lambda: page(Coupon.lookup.query(gsi_pk, limit=first + 1, last_evaluated_key=start,
                                                     scan_index_forward=False),
                                 to_redemption, ("PK", "SK", "GSI1PK", "GSI1SK"), first), what="redemptions")


class _StaleReward(Exception):
    """The cached reward is older than the stored one: reload and try again."""


def _tier_condition(reward: Reward, ladder: Any) -> Any:
    """Without a ladder the exact stored tier is a condition of the redemption. With one, the tier is
    computed from qualification, which only a period end (the tier job) lowers: the read decides."""
    return (MemberProfile.tier == reward.tier_gate) if reward.tier_gate and ladder is None else None


def add_gift_coupon(tx: Transaction, tenant: str, member_id: str, reward: Reward, now: datetime, cause: str) -> str:
    """A coupon for `reward` given without spending points (a post's reward), added to `tx`: the coupon
    and the member's redemption listing exactly as a redemption costing 0, and the reward's count and
    stock. Parts "gift-reward" (still ACTIVE, in stock) and "gift-coupon" (a code collision: draw again).
    `cause` stands where a redemption names its ledger entry: a gift has none. Returns the code."""
    code = rules.new_coupon_code()
    pk = keys.member_pk(tenant, member_id)
    tx.put("gift-coupon", Coupon(keys.coupon_pk(tenant, code), "COUPON", code=code, member_id=member_id,
                                 reward_id=reward.id, reward=rules.reward_to_dict(reward), points=0,
                                 status=CouponStatus.ISSUED.value, created_at=now.isoformat(), entry=cause,
                                 GSI1PK=f"{pk}#COUPONS", GSI1SK=now.isoformat()), Coupon.PK.does_not_exist())
    condition = RewardItem.status == "ACTIVE"
    actions = [RewardItem.redeemed.add(1)]
    if reward.stock_total is not None:
        condition &= RewardItem.stock_left >= 1
        actions.append(RewardItem.stock_left.add(-1))
    tx.update("gift-reward", RewardItem(keys.program_pk(tenant), f"{REWARD_PREFIX}{reward.id}"), actions, condition)
    return code


def take_back_gift_coupon(tx: Transaction, tenant: str, coupon: Coupon) -> None:
    """A gift coupon (`add_gift_coupon`) given back while unused: cancelled (conditioned on still being
    unused: part "gift-back"), and the reward's count and stock with it. A used one stays used."""
    tx.update("gift-back", coupon, [Coupon.status.set(CouponStatus.CANCELLED.value)],
              Coupon.status == CouponStatus.ISSUED.value)
    reward = rules.reward_from_dict(coupon.reward)
    actions = [RewardItem.redeemed.add(-1)]
    if reward.stock_total is not None:
        actions.append(RewardItem.stock_left.add(1))
    tx.update("gift-back-reward", RewardItem(keys.program_pk(tenant), f"{REWARD_PREFIX}{reward.id}"), actions,
              RewardItem.PK.exists())
