"""GraphQL shapes of the points ledger, the program, rewards and coupons.

Objects a client caches are Nodes (resolvers/nodes.py) with a global `id`. The small value objects
inside them (an earn rate, a campaign, "expiring soon") have no id: they are embedded in their
parent, say so in their description, and are always answered whole with it."""
from __future__ import annotations

import re
from datetime import datetime
from decimal import Decimal
from typing import Any

import strawberry

from domain.access import Kind, Role
from domain.points import balance as balance_rules
from domain.points import orders as order_rules
from domain.points import program as program_rules
from domain.points import rewards as reward_rules
from domain.points.lots import ExpiringSoon as ExpiringSoonRule
from infra.audit import AuditTrail
from infra.points.items import AuditEntry as AuditItem
from infra.points.items import LedgerEntry
from infra.points.program_store import CachedReward
from infra.points.rewards import Redemption as RedemptionRecord
from infra.points.rewards import to_redemption
from resolvers.nodes import Node, node_type, plain_key, read
from resolvers.pagination import Connection, connection
from resolvers.permissions import can_read_catalog
from resolvers.shapes import change

EntryType = strawberry.enum(balance_rules.EntryType, description="What caused a points change.")
EntryStatus = strawberry.enum(balance_rules.EntryStatus)
RewardKind = strawberry.enum(reward_rules.RewardKind)
CouponStatus = strawberry.enum(reward_rules.CouponStatus)
Rounding = strawberry.enum(program_rules.Rounding)
EarnBasis = strawberry.enum(program_rules.EarnBasis)
Period = strawberry.enum(program_rules.Period)
ExpiryMode = strawberry.enum(program_rules.ExpiryMode)
StoreCreditPoints = strawberry.enum(program_rules.StoreCreditPoints)
ReturnResolution = strawberry.enum(order_rules.ReturnResolution)

EMBEDDED = "An embedded value of its parent: it has no id and is always answered whole with the parent."
PROGRAM_KEY = "main"  # one points program per tenant; the key says which of the tenant's programs


def embedded(description: str) -> str:
    return f"{description} {EMBEDDED}"


@strawberry.type(description=embedded("Points that will expire soon, and when."))
class ExpiringSoon:
    points: int
    at: datetime

    @classmethod
    def of(cls, e: ExpiringSoonRule | None) -> "ExpiringSoon | None":
        return cls(points=e.points, at=e.at) if e else None


# -- the ledger -----------------------------------------------------------------------------------

def _entry_parts(key: str) -> tuple[str, str]:
    """A ledger entry's node key: its ULID (26 characters), ':' and the member id."""
    return key[:26], key[27:]


ULID = re.compile(r"[0-9A-HJKMNP-TV-Z]{26}")  # Crockford base32, as infra/ids.py writes them


def _entry_key_ok(key: str) -> bool:
    entry_id, member_id = _entry_parts(key)
    return len(key) > 27 and key[26] == ":" and bool(ULID.fullmatch(entry_id)) and plain_key(member_id)


def _load_entry(info: Any, key: str) -> "PointsEntry | None":
    entry_id, member_id = _entry_parts(key)
    entry = info.context.members.ledger_entry(member_id, entry_id)
    return PointsEntry.of(entry) if entry is not None else None


@node_type(load=_load_entry, valid_key=_entry_key_ok,
           may_ask=lambda info, key: info.context.principal.can_read_member(_entry_parts(key)[1]))
@strawberry.type(description="One ledger entry. The sum of a member's entries is available + pending - debt. Entries "
                             "never change except `status` (pending to posted).")
class PointsEntry(Node):
    entry_id: strawberry.Private[str]
    member_id: strawberry.Private[str]
    type: EntryType
    points: int
    status: EntryStatus
    reason: str | None
    source: str | None
    order_id: strawberry.ID | None
    reward_id: strawberry.ID | None = strawberry.field(description="The reward's own id (its slug), for redemptions.")
    coupon_code: str | None
    created_at: datetime

    def node_key(self) -> str:
        return f"{self.entry_id}:{self.member_id}"

    @classmethod
    def of(cls, e: LedgerEntry) -> "PointsEntry":
        return cls(entry_id=e.SK.removeprefix("TX#"), member_id=e.member_id, type=balance_rules.EntryType(e.entry_type),
                   points=int(e.points), status=balance_rules.EntryStatus(e.status), reason=e.reason, source=e.source,
                   order_id=e.order_id, reward_id=e.reward_id, coupon_code=e.coupon_code,
                   created_at=datetime.fromisoformat(e.created_at))


# -- rewards --------------------------------------------------------------------------------------

def reward_visible(info: Any, reward: reward_rules.Reward) -> bool:
    """Staff see every reward; everyone else sees those redeemable now (active, within their window)."""
    return info.context.principal.is_staff() or reward.available_at(info.context.now())


def _load_reward(info: Any, key: str) -> "Reward | None":
    cached = info.context.programs.reward(key)
    return Reward.of(cached) if cached else None


def reward_now(info: Any, key: str) -> "Reward | None":
    """The reward read from its item now (stock left after a change), not from the program cache."""
    cached = info.context.programs.reward_now(key)
    return Reward.of(cached) if cached else None


@node_type(load=_load_reward, may_ask=lambda info, key: can_read_catalog(info),
           may_read=lambda info, r: reward_visible(info, r.definition))
@strawberry.type(description="A reward in the catalog.")
class Reward(Node):
    definition: strawberry.Private[reward_rules.Reward]
    reward_id: strawberry.ID = strawberry.field(
        description="The reward's own id, a slug such as `free-shipping`: what `rewardSave` takes as `id`. "
                    "`rewardRedeem(rewardId:)` takes this or `id`.")
    name: str
    description: str
    kind: RewardKind
    points_cost: int
    value: Decimal | None = strawberry.field(description="Amount off (in `currency`) or percent off; null for free "
                                                         "shipping, free products and custom rewards.")
    currency: str | None
    product_sku: str | None
    image_url: str | None = strawberry.field(description="An https URL of the reward's image, for storefronts.")
    requires_tier: str | None = strawberry.field(
        description="Only members of this tier may redeem it (`TIER_REQUIRED` otherwise); null: everyone.")
    stock_total: int | None = strawberry.field(description="Units issued in all; null: unlimited.")
    stock_left: int | None = strawberry.field(
        description="Units left; null: unlimited. Read from the reward itself: in a mutation payload as the change "
                    "left it; in the catalog as of the program cache (at most 30 seconds old). A redemption always "
                    "checks the live count.")
    per_member_limit: int | None
    starts_at: datetime | None = strawberry.field(
        description="Redeemable from then on; before, `rewardRedeem` answers `NOT_AVAILABLE`. Null: no start.")
    ends_at: datetime | None = strawberry.field(
        description="Redeemable until just before then; after, `rewardRedeem` answers `NOT_AVAILABLE`. Null: no end.")
    active: bool = strawberry.field(description="Switched on by staff. Members see only active rewards within their "
                                                "window.")
    tier_gate: str | None = strawberry.field(deprecation_reason="Use `requiresTier`.")
    active_from: datetime | None = strawberry.field(deprecation_reason="Use `startsAt`.")
    active_until: datetime | None = strawberry.field(deprecation_reason="Use `endsAt`.")

    def node_key(self) -> str:
        return self.definition.id

    @classmethod
    def of(cls, c: CachedReward) -> "Reward":
        return cls.of_definition(c.reward, c.stock_left)

    @classmethod
    def of_definition(cls, r: reward_rules.Reward, stock: int | None = None) -> "Reward":
        """A reward as defined; `stock` is what its item says is left (None when not read)."""
        return cls(definition=r, reward_id=strawberry.ID(r.id), name=r.name, description=r.description, kind=r.kind,
                   points_cost=r.points_cost, value=r.value, currency=r.currency, product_sku=r.product_sku,
                   image_url=r.image_url, requires_tier=r.tier_gate, stock_total=r.stock_total,
                   stock_left=stock if r.stock_total is not None else None,
                   per_member_limit=r.per_member_limit, starts_at=r.active_from, ends_at=r.active_until,
                   active=r.active, tier_gate=r.tier_gate, active_from=r.active_from, active_until=r.active_until)


RewardConnection = Connection[Reward]


def reward_catalog(info: Any, first: int | None, after: str | None, include_inactive: bool = False) -> Connection[Reward]:
    """The catalog in the order shown (points cost, then name), through the one connection helper.
    Rewards come from the program cache; a page costs no read when the cache is warm."""
    ctx = info.context
    everything = include_inactive and ctx.principal.is_staff()
    programs = ctx.programs
    return connection(info, first, after,
                      lambda size, start: programs.catalog_page(
                          size, start, (lambda r: True) if everything else (lambda r: reward_visible(info, r))),
                      Reward.of)


# -- redemptions ----------------------------------------------------------------------------------

def _load_redemption(info: Any, code: str) -> RedemptionRecord | None:
    coupon = info.context.rewards.coupon(code)
    return to_redemption(coupon) if coupon is not None else None


def redemption_readable(info: Any, r: Any) -> bool:
    """Its member; staff; the order system (which validates and consumes coupons by code)."""
    principal = info.context.principal
    return principal.kind is Kind.SERVICE or principal.is_staff() or (
        principal.kind is Kind.MEMBER and principal.subject == str(r.member_id))


def _may_ask_redemption(info: Any, key: str) -> bool:
    principal = info.context.principal
    return principal.kind in (Kind.MEMBER, Kind.SERVICE) or principal.is_staff()


def _code_ok(key: str) -> bool:
    return 0 < len(key) <= 32 and key.replace("-", "").isalnum() and key.isupper() and key.isascii()


CATALOG = "A catalog setting, as it was when redeemed: the reward's settings now are in `current`."


@node_type(load=lambda info, code: (lambda r: RedeemedReward.of(r) if r else None)(_load_redemption(info, code)),
           may_ask=_may_ask_redemption, may_read=redemption_readable, valid_key=_code_ok)
@strawberry.type(description="What a coupon is worth: the reward as it was when it was redeemed. It never changes "
                             "(a later change to the reward leaves it alone), and its `id` is its redemption's.")
class RedeemedReward(Node):
    code: strawberry.Private[str]
    member_id: strawberry.Private[str]
    reward_id: strawberry.ID = strawberry.field(description="The reward's own id (its slug), as in the catalog.")
    name: str
    description: str
    kind: RewardKind
    points_cost: int
    value: Decimal | None
    currency: str | None
    product_sku: str | None
    image_url: str | None
    requires_tier: str | None
    # Until this type had its own name, `Redemption.reward` was a `Reward`: its catalog settings stay here,
    # as they were when redeemed, for one release.
    tier_gate: str | None = strawberry.field(deprecation_reason="Use `requiresTier`.")
    stock_total: int | None = strawberry.field(deprecation_reason=CATALOG)
    per_member_limit: int | None = strawberry.field(deprecation_reason=CATALOG)
    active_from: datetime | None = strawberry.field(deprecation_reason=CATALOG)
    active_until: datetime | None = strawberry.field(deprecation_reason=CATALOG)
    active: bool = strawberry.field(deprecation_reason=CATALOG)

    def node_key(self) -> str:
        return self.code

    @strawberry.field(description="The reward as the catalog has it now (from the program cache, no read); null when "
                                  "the caller would not see it in the catalog.")
    def current(self, info: strawberry.Info) -> Reward | None:
        return read(info, Reward, str(self.reward_id))

    @classmethod
    def of(cls, r: RedemptionRecord) -> "RedeemedReward":
        d = r.reward
        return cls(code=r.code, member_id=r.member_id, reward_id=strawberry.ID(d.id), name=d.name,
                   description=d.description, kind=d.kind, points_cost=d.points_cost, value=d.value,
                   currency=d.currency, product_sku=d.product_sku, image_url=d.image_url, requires_tier=d.tier_gate,
                   tier_gate=d.tier_gate, stock_total=d.stock_total, per_member_limit=d.per_member_limit,
                   active_from=d.active_from, active_until=d.active_until, active=d.active)


@node_type(load=lambda info, code: (lambda r: Redemption.of(r) if r else None)(_load_redemption(info, code)),
           may_ask=_may_ask_redemption, may_read=redemption_readable, valid_key=_code_ok)
@strawberry.type(description="A redeemed reward: the coupon code the storefront applies at checkout.")
class Redemption(Node):
    code: str
    member_id: strawberry.ID = strawberry.field(description="The member's own id.")
    reward: RedeemedReward = strawberry.field(description="What the coupon is worth, as redeemed.")
    points: int
    status: CouponStatus
    created_at: datetime
    consumed_at: datetime | None
    order_id: strawberry.ID | None

    def node_key(self) -> str:
        return self.code

    @classmethod
    def of(cls, r: RedemptionRecord) -> "Redemption":
        return cls(code=r.code, member_id=strawberry.ID(r.member_id), reward=RedeemedReward.of(r), points=r.points,
                   status=r.status, created_at=datetime.fromisoformat(r.created_at),
                   consumed_at=datetime.fromisoformat(r.consumed_at) if r.consumed_at else None,
                   order_id=r.order_id)


# -- the program ----------------------------------------------------------------------------------

@strawberry.type(description=embedded("Points per amount spent in one currency: `pointsPerUnit` for every "
                                      "`unitAmount`, e.g. 1 point per 100 JPY."))
class EarnRate:
    currency: str
    unit_amount: Decimal
    points_per_unit: Decimal


@strawberry.type(description=embedded("Extra points on order lines of a category or a SKU (the factor multiplies)."))
class Multiplier:
    factor: Decimal
    category: str | None
    sku: str | None


@strawberry.type(description=embedded("A time-boxed multiplier, optionally for some categories only."))
class Campaign:
    name: str
    factor: Decimal
    starts_at: datetime
    ends_at: datetime
    categories: list[str]


@strawberry.type(description=embedded("The earn rule of an action."))
class ActionRule:
    action: str
    points: int
    cap_per_period: int | None
    period: Period
    cooldown_seconds: int
    max_return_rate: Decimal | None


@strawberry.type(description=embedded("A category's own return window."))
class CategoryReturnWindow:
    category: str
    days: int


@strawberry.type(description=embedded("A tier's factor on order points."))
class TierMultiplier:
    tier: str
    factor: Decimal


def _staff(info: Any, key: str) -> bool:
    return info.context.principal.is_staff()


def _admin(info: Any, key: str) -> bool:
    return info.context.principal.is_staff(Role.ADMIN)


@node_type(load=lambda info, key: Program.of(info.context.programs.program()), may_ask=_staff,
           valid_key=lambda key: key == PROGRAM_KEY)
@strawberry.type(description="The points program's configuration (staff).")
class Program(Node):
    earn_rates: list[EarnRate]
    rounding: Rounding
    basis: EarnBasis
    multipliers: list[Multiplier]
    campaigns: list[Campaign]
    actions: list[ActionRule]
    return_window_days: int
    category_return_windows: list[CategoryReturnWindow]
    expiry_mode: ExpiryMode
    expiry_months: int
    expiring_soon_days: int
    exchange_bonus_points: int
    exchange_bonus_max_return_rate: Decimal | None
    store_credit_points: StoreCreditPoints
    return_rate_window_days: int
    tier_multipliers: list[TierMultiplier]
    timezone: str = strawberry.field(description="IANA time zone of the brand's calendar.")
    public: bool = strawberry.field(description="Whether callers without a token may read `programSummary` and "
                                                "`rewards` (members, staff and the order system always may).")

    def node_key(self) -> str:
        return PROGRAM_KEY

    @classmethod
    def of(cls, p: program_rules.Program) -> "Program":
        return cls(
            earn_rates=[EarnRate(currency=r.currency, unit_amount=r.unit_amount, points_per_unit=r.points_per_unit)
                        for r in p.earn_rates],
            rounding=p.rounding, basis=p.basis,
            multipliers=[Multiplier(factor=m.factor, category=m.category, sku=m.sku) for m in p.multipliers],
            campaigns=[_campaign(c) for c in p.campaigns],
            actions=[ActionRule(action=a.action, points=a.points, cap_per_period=a.cap_per_period, period=a.period,
                                cooldown_seconds=a.cooldown_seconds, max_return_rate=a.max_return_rate)
                     for a in p.actions],
            return_window_days=p.return_window_days,
            category_return_windows=[CategoryReturnWindow(category=c, days=d) for c, d in p.category_return_window_days],
            expiry_mode=p.expiry_mode, expiry_months=p.expiry_months, expiring_soon_days=p.expiring_soon_days,
            exchange_bonus_points=p.exchange_bonus_points,
            exchange_bonus_max_return_rate=p.exchange_bonus_max_return_rate, store_credit_points=p.store_credit_points,
            return_rate_window_days=p.return_rate_window_days,
            tier_multipliers=[TierMultiplier(tier=t, factor=f) for t, f in p.tier_multipliers],
            timezone=p.timezone, public=p.public,
        )


def _campaign(c: program_rules.Campaign) -> Campaign:
    return Campaign(name=c.name, factor=c.factor, starts_at=c.starts_at, ends_at=c.ends_at, categories=list(c.categories))


@strawberry.type(description=embedded("A way to earn points: an action the brand rewards, how many points, and how "
                                      "often."))
class WayToEarn:
    action: str = strawberry.field(description="The action's name, e.g. `review_written`, `birthday`, `signup`.")
    points: int
    cap_per_period: int | None = strawberry.field(description="At most this many credits per `period`; null: no cap.")
    period: Period
    cooldown_seconds: int = strawberry.field(description="Seconds between two credits; 0: none.")


@node_type(load=lambda info, key: ProgramSummary.of(info.context.programs.program(), info.context.now()),
           may_ask=lambda info, key: can_read_catalog(info), valid_key=lambda key: key == PROGRAM_KEY)
@strawberry.type(description="What a storefront shows of the program: how points are earned, how long they are held "
                             "and kept, and the rewards. Members, staff and the order system may read it; callers "
                             "without a token when the program is public (`Program.public`).")
class ProgramSummary(Node):
    earn_rates: list[EarnRate]
    multipliers: list[Multiplier] = strawberry.field(description="Extra points on some categories or SKUs.")
    campaigns: list[Campaign] = strawberry.field(description="Campaigns running now or still to come.")
    ways_to_earn: list[WayToEarn] = strawberry.field(description="Actions that earn points, with their caps.")
    return_window_days: int = strawberry.field(
        description="Order points are pending this many days after delivery (or the order date), then spendable.")
    expiry_mode: ExpiryMode
    expiry_months: int = strawberry.field(description="Months after earning, or of inactivity, per `expiryMode`.")
    timezone: str = strawberry.field(description="The brand's calendar for daily, weekly, monthly and yearly caps.")

    def node_key(self) -> str:
        return PROGRAM_KEY

    @strawberry.field(description="The rewards members can redeem now, cheapest first; paged as every list is.")
    def rewards(self, info: strawberry.Info, first: int | None = None,
                after: str | None = None) -> Connection[Reward]:
        return reward_catalog(info, first, after)

    @classmethod
    def of(cls, p: program_rules.Program, now: datetime) -> "ProgramSummary":
        return cls(
            earn_rates=[EarnRate(currency=r.currency, unit_amount=r.unit_amount, points_per_unit=r.points_per_unit)
                        for r in p.earn_rates],
            multipliers=[Multiplier(factor=m.factor, category=m.category, sku=m.sku) for m in p.multipliers],
            campaigns=[_campaign(c) for c in p.campaigns if c.ends_at > now],
            ways_to_earn=[WayToEarn(action=a.action, points=a.points, cap_per_period=a.cap_per_period, period=a.period,
                                    cooldown_seconds=a.cooldown_seconds) for a in p.actions],
            return_window_days=p.return_window_days, expiry_mode=p.expiry_mode, expiry_months=p.expiry_months,
            timezone=p.timezone)


@strawberry.type(description=embedded("Share of a member's recent orders that came back (staff), computed when read."))
class ReturnRate:
    orders: int
    returns: int
    rate: Decimal
    window_days: int


# -- the audit trail ------------------------------------------------------------------------------

def sorted_key_ok(key: str) -> bool:
    """`<ISO time>#<ULID>`: the sort key of audit entries and webhook failures."""
    at, sep, ulid = key.rpartition("#")
    return bool(sep) and len(key) <= 80 and bool(ULID.fullmatch(ulid)) and at[:4].isdigit()


def _load_audit(info: Any, key: str) -> "AuditRecord | None":
    item = AuditTrail(info.context.require_tenant()).get(key)
    return AuditRecord.of(item) if item is not None else None


@node_type(load=_load_audit, may_ask=_admin, valid_key=sorted_key_ok)
@strawberry.type(description="One staff change (admin). `detail` names fields as the schema does; a change of the "
                             "program or a reward records `before` and `after` of the fields that changed.")
class AuditRecord(Node):
    entry_id: strawberry.Private[str]
    at: datetime
    actor: str
    action: str
    member_id: strawberry.ID | None
    reason: str | None
    detail: strawberry.scalars.JSON

    def node_key(self) -> str:
        return self.entry_id

    @classmethod
    def of(cls, a: AuditItem) -> "AuditRecord":
        return cls(entry_id=a.SK, at=datetime.fromisoformat(a.at), actor=a.actor, action=a.action,
                   member_id=a.member_id, reason=a.reason, detail=a.detail)


# -- how the audit trail records a change: as the schema shows it --------------------------------

def describe_program(before: program_rules.Program, after: program_rules.Program) -> dict[str, Any]:
    return change(Program.of(before), Program.of(after))


def describe_reward(before: reward_rules.Reward | None, after: reward_rules.Reward) -> dict[str, Any]:
    # Stock left is the reward's state, not its definition: redemptions change it, not staff.
    return {"rewardId": after.id, **change(Reward.of_definition(before) if before else None,
                                            Reward.of_definition(after), exclude={"stockLeft"})}
