"""The brand's points program: earn rates, multipliers, campaigns, action rules, return and expiry policy."""
from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import datetime
from decimal import Decimal
from enum import Enum
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from domain import calendar
from domain.errors import ErrorCode, UserError, collect
from domain.posts.settings import PostSettings
from domain.tiers.ladder import LadderSchedule, schedule_from_dict, schedule_to_dict
from domain.vip_events.settings import VipEventSettings
from domain.lifecycle.settings import LifecycleSettings

MAX_FACTOR = Decimal(100)
MAX_ACTION_POINTS = 1_000_000


def known_zone(name: str) -> bool:
    """An IANA zone name such as "Asia/Tokyo". ZoneInfo itself refuses paths ("../x", "/etc/...")."""
    if len(name) > 64:  # longer names are no zone, and the file lookup would fail with OSError
        return False
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError, OSError):
        return False
    return True


def same_category(a: str | None, b: str | None) -> bool:
    """Categories match whatever their case or spacing ("Skincare" from a shop is "skincare" here)."""
    return a is not None and b is not None and a.strip().casefold() == b.strip().casefold()


class Rounding(Enum):
    DOWN = "DOWN"
    HALF_UP = "HALF_UP"
    UP = "UP"


class EarnBasis(Enum):
    GOODS_AFTER_DISCOUNTS = "GOODS_AFTER_DISCOUNTS"  # what the customer paid for goods: no tax, no shipping
    TOTAL_PAID = "TOTAL_PAID"  # including tax and shipping


class Period(Enum):
    DAY = "DAY"
    WEEK = "WEEK"
    MONTH = "MONTH"
    YEAR = "YEAR"
    LIFETIME = "LIFETIME"


class ExpiryMode(Enum):
    NEVER = "NEVER"
    AFTER_EARNING = "AFTER_EARNING"  # each lot expires N months after it was earned
    AFTER_INACTIVITY = "AFTER_INACTIVITY"  # everything expires after N months without activity


class StoreCreditPoints(Enum):
    KEEP = "KEEP"  # a refund to store credit leaves the points
    REVERSE = "REVERSE"  # treated like a refund


@dataclass(frozen=True)
class EarnRate:
    """`points_per_unit` points for every `unit_amount` of the currency (e.g. 1 point per 100 JPY)."""

    currency: str
    unit_amount: Decimal
    points_per_unit: Decimal = Decimal(1)


@dataclass(frozen=True)
class Multiplier:
    """Extra factor for order lines of a product category or a SKU."""

    factor: Decimal
    category: str | None = None
    sku: str | None = None

    def matches(self, sku: str | None, category: str | None) -> bool:
        return (self.sku is not None and self.sku == sku) or (
            self.category is not None and same_category(self.category, category))


@dataclass(frozen=True)
class Campaign:
    """A time-boxed multiplier (double points weekend), optionally for some categories only."""

    name: str
    factor: Decimal
    starts_at: datetime
    ends_at: datetime
    categories: tuple[str, ...] = ()

    def applies(self, at: datetime, category: str | None) -> bool:
        return self.starts_at <= at < self.ends_at and (
            not self.categories or any(same_category(c, category) for c in self.categories))


@dataclass(frozen=True)
class ActionRule:
    """Points for an action (review written, birthday, referral, a custom activity the brand names)."""

    action: str
    points: int
    cap_per_period: int | None = None
    period: Period = Period.LIFETIME
    cooldown_seconds: int = 0
    max_return_rate: Decimal | None = None  # no credit when the member returns more than this share


@dataclass(frozen=True)
class Program:
    earn_rates: tuple[EarnRate, ...] = ()
    rounding: Rounding = Rounding.DOWN
    basis: EarnBasis = EarnBasis.GOODS_AFTER_DISCOUNTS
    multipliers: tuple[Multiplier, ...] = ()
    campaigns: tuple[Campaign, ...] = ()
    actions: tuple[ActionRule, ...] = ()
    return_window_days: int = 30
    category_return_window_days: tuple[tuple[str, int], ...] = ()
    expiry_mode: ExpiryMode = ExpiryMode.NEVER
    expiry_months: int = 12
    expiring_soon_days: int = 30
    exchange_bonus_points: int = 0
    exchange_bonus_max_return_rate: Decimal | None = None  # no exchange bonus for members returning more than this
    store_credit_points: StoreCreditPoints = StoreCreditPoints.KEEP
    return_rate_window_days: int = 180
    max_order_amount: Decimal = Decimal("100000000")
    # Before ladders: tier name -> factor applied to order earnings. A ladder's POINTS_MULTIPLIER
    # benefits take over for the tiers it defines.
    tier_multipliers: tuple[tuple[str, Decimal], ...] = ()
    # The tier ladder in force and an edit waiting for the next period (domain/tiers/ladder.py).
    tiers: LadderSchedule = LadderSchedule()
    # The brand's calendar (IANA name): caps per day/week/month/year and birthdays follow its local days.
    timezone: str = "UTC"
    # Whether callers without a token may read what a storefront shows (the program summary and the
    # rewards catalog). Off by default: a signed-in member, staff or the order system may always read it.
    public: bool = False
    # Members' posts (domain/posts/settings.py) and VIP events (domain/vip_events/settings.py).
    posts: PostSettings = PostSettings()
    vip_events: VipEventSettings = VipEventSettings()
    lifecycle: LifecycleSettings = LifecycleSettings()  # lapsing, anniversaries, milestones (domain/lifecycle/)

    def local_time(self, at: datetime) -> datetime:
        """`at` on the brand's wall clock (domain/calendar.py: the one day boundary every feature uses)."""
        return calendar.local(at, self.timezone)

    def rate_for(self, currency: str) -> EarnRate:
        for rate in self.earn_rates:
            if rate.currency == currency:
                return rate
        raise UserError(ErrorCode.UNKNOWN_CURRENCY, f"The program has no earn rate for {currency}.", "currency")

    def action(self, name: str) -> ActionRule:
        for rule in self.actions:
            if rule.action == name:
                return rule
        raise UserError(ErrorCode.NOT_FOUND, f"No earn rule for action {name!r}.", "action")

    def window_days_for(self, category: str | None) -> int:
        return next((days for c, days in self.category_return_window_days if same_category(c, category)),
                    self.return_window_days)

    def tier_factor(self, tier: str | None) -> Decimal:
        """The earn factor of a tier: by id from the ladder's multiplier benefit, else by name from
        the older `tier_multipliers`."""
        for ladder in (self.tiers.current, self.tiers.next):
            found = ladder.by_id(tier) if ladder else None
            if found is not None:
                return found.multiplier()
        return dict(self.tier_multipliers).get(tier or "", Decimal(1))

    def tier_multipliers_matter(self) -> bool:
        """Whether an earn must know the member's tier (costs a read of the profile)."""
        return bool(self.tier_multipliers) or any(
            ladder is not None and ladder.multipliers_matter() for ladder in (self.tiers.current, self.tiers.next))

    def with_action(self, rule: ActionRule) -> "Program":
        others = tuple(r for r in self.actions if r.action != rule.action)
        return replace(self, actions=others + (rule,))

    def without_action(self, name: str) -> "Program":
        return replace(self, actions=tuple(r for r in self.actions if r.action != name))


DEFAULT_PROGRAM = Program(earn_rates=(EarnRate("USD", Decimal(1)), EarnRate("JPY", Decimal(100)),
                                      EarnRate("EUR", Decimal(1))))

_CURRENCY_LEN = 3
_ACTION_CHARS = set("abcdefghijklmnopqrstuvwxyz0123456789_-")


def validate(p: Program) -> Program:
    """Every problem with a configuration, reported at once; a valid program is returned unchanged."""
    problems: list[UserError | None] = []
    seen = set()
    for i, r in enumerate(p.earn_rates):
        if len(r.currency) != _CURRENCY_LEN or not r.currency.isalpha() or not r.currency.isupper():
            problems.append(UserError(ErrorCode.INVALID, "Currency must be a 3-letter ISO code.", f"earnRates.{i}.currency"))
        if r.unit_amount <= 0 or r.points_per_unit <= 0:
            problems.append(UserError(ErrorCode.OUT_OF_RANGE, "Earn rates must be positive.", f"earnRates.{i}"))
        if r.currency in seen:
            problems.append(UserError(ErrorCode.INVALID, "Each currency has one earn rate.", f"earnRates.{i}.currency"))
        seen.add(r.currency)
    for i, m in enumerate(p.multipliers):
        if not (Decimal(0) <= m.factor <= MAX_FACTOR) or (m.sku is None) == (m.category is None):
            problems.append(UserError(ErrorCode.INVALID, "A multiplier has a factor 0-100 and either a SKU or a category.",
                                      f"multipliers.{i}"))
    for i, c in enumerate(p.campaigns):
        if not (Decimal(0) <= c.factor <= MAX_FACTOR) or c.ends_at <= c.starts_at:
            problems.append(UserError(ErrorCode.INVALID, "A campaign has a factor 0-100 and ends after it starts.",
                                      f"campaigns.{i}"))
    for i, a in enumerate(p.actions):
        problems.append(check_action(a, f"actions.{i}"))
    if not 0 <= p.return_window_days <= 365:
        problems.append(UserError(ErrorCode.OUT_OF_RANGE, "The return window is 0 to 365 days.", "returnWindowDays"))
    for cat, days in p.category_return_window_days:
        if not 0 <= days <= 365:
            problems.append(UserError(ErrorCode.OUT_OF_RANGE, f"Return window for {cat} is 0 to 365 days.",
                                      "categoryReturnWindows"))
    if not 1 <= p.expiry_months <= 120:
        problems.append(UserError(ErrorCode.OUT_OF_RANGE, "Expiry is 1 to 120 months.", "expiryMonths"))
    if not 0 <= p.expiring_soon_days <= 365:
        problems.append(UserError(ErrorCode.OUT_OF_RANGE, "The reminder is 0 to 365 days ahead.", "expiringSoonDays"))
    if not 0 <= p.exchange_bonus_points <= MAX_ACTION_POINTS:
        problems.append(UserError(ErrorCode.OUT_OF_RANGE, "The exchange bonus is 0 to 1,000,000 points.",
                                  "exchangeBonusPoints"))
    if p.exchange_bonus_max_return_rate is not None and not Decimal(0) <= p.exchange_bonus_max_return_rate <= 1:
        problems.append(UserError(ErrorCode.OUT_OF_RANGE, "A return rate is a share from 0 to 1.",
                                  "exchangeBonusMaxReturnRate"))
    if not 1 <= p.return_rate_window_days <= 730:
        problems.append(UserError(ErrorCode.OUT_OF_RANGE, "The return-rate window is 1 to 730 days.",
                                  "returnRateWindowDays"))
    if not known_zone(p.timezone):
        problems.append(UserError(ErrorCode.INVALID, "The time zone is an IANA name such as \"Asia/Tokyo\" or \"UTC\".",
                                  "timezone"))
    collect(*problems)
    return p


def check_action(a: ActionRule, field: str = "action") -> UserError | None:
    if not a.action or len(a.action) > 40 or set(a.action) - _ACTION_CHARS:
        return UserError(ErrorCode.INVALID, "Action names use a-z, 0-9, '_' and '-', up to 40 characters.", field)
    if not 0 < a.points <= MAX_ACTION_POINTS:
        return UserError(ErrorCode.OUT_OF_RANGE, "Action points are 1 to 1,000,000.", field)
    if a.cap_per_period is not None and a.cap_per_period < 1:
        return UserError(ErrorCode.OUT_OF_RANGE, "A cap is at least 1.", field)
    if a.max_return_rate is not None and not Decimal(0) <= a.max_return_rate <= 1:
        return UserError(ErrorCode.OUT_OF_RANGE, "A return rate is a share from 0 to 1.", field)
    if not 0 <= a.cooldown_seconds <= 366 * 86400:
        return UserError(ErrorCode.OUT_OF_RANGE, "The cooldown is 0 seconds to a year.", field)
    return None


# -- storage form: a plain dict (JSON) that survives round trips ----------------------------------

def to_dict(p: Program) -> dict[str, Any]:
    def ts(d: datetime) -> str:
        return d.isoformat()

    return {
        "earnRates": [{"currency": r.currency, "unitAmount": str(r.unit_amount), "pointsPerUnit": str(r.points_per_unit)}
                      for r in p.earn_rates],
        "rounding": p.rounding.value,
        "basis": p.basis.value,
        "multipliers": [{"factor": str(m.factor), "category": m.category, "sku": m.sku} for m in p.multipliers],
        "campaigns": [{"name": c.name, "factor": str(c.factor), "startsAt": ts(c.starts_at), "endsAt": ts(c.ends_at),
                       "categories": list(c.categories)} for c in p.campaigns],
        "actions": [{"action": a.action, "points": a.points, "capPerPeriod": a.cap_per_period, "period": a.period.value,
                     "cooldownSeconds": a.cooldown_seconds,
                     "maxReturnRate": str(a.max_return_rate) if a.max_return_rate is not None else None}
                    for a in p.actions],
        "returnWindowDays": p.return_window_days,
        "categoryReturnWindowDays": [[c, d] for c, d in p.category_return_window_days],
        "expiryMode": p.expiry_mode.value,
        "expiryMonths": p.expiry_months,
        "expiringSoonDays": p.expiring_soon_days,
        "exchangeBonusPoints": p.exchange_bonus_points,
        "exchangeBonusMaxReturnRate": (str(p.exchange_bonus_max_return_rate)
                                       if p.exchange_bonus_max_return_rate is not None else None),
        "storeCreditPoints": p.store_credit_points.value,
        "returnRateWindowDays": p.return_rate_window_days,
        "maxOrderAmount": str(p.max_order_amount),
        "tierMultipliers": [[t, str(f)] for t, f in p.tier_multipliers],
        "timezone": p.timezone,
        "public": p.public,
        "tiers": schedule_to_dict(p.tiers),
        "posts": p.posts.to_dict(),
        "vipEvents": p.vip_events.to_dict(),
        "lifecycle": p.lifecycle.to_dict(),
    }


def from_dict(d: dict[str, Any]) -> Program:
    base = Program()
    return Program(
        earn_rates=tuple(EarnRate(r["currency"], Decimal(r["unitAmount"]), Decimal(r["pointsPerUnit"]))
                         for r in d.get("earnRates", [])),
        rounding=Rounding(d.get("rounding", base.rounding.value)),
        basis=EarnBasis(d.get("basis", base.basis.value)),
        multipliers=tuple(Multiplier(Decimal(m["factor"]), m.get("category"), m.get("sku"))
                          for m in d.get("multipliers", [])),
        campaigns=tuple(Campaign(c["name"], Decimal(c["factor"]), datetime.fromisoformat(c["startsAt"]),
                                 datetime.fromisoformat(c["endsAt"]), tuple(c.get("categories", [])))
                        for c in d.get("campaigns", [])),
        actions=tuple(ActionRule(a["action"], int(a["points"]), a.get("capPerPeriod"), Period(a["period"]),
                                 int(a.get("cooldownSeconds", 0)),
                                 Decimal(a["maxReturnRate"]) if a.get("maxReturnRate") is not None else None)
                      for a in d.get("actions", [])),
        return_window_days=int(d.get("returnWindowDays", base.return_window_days)),
        category_return_window_days=tuple((c, int(n)) for c, n in d.get("categoryReturnWindowDays", [])),
        expiry_mode=ExpiryMode(d.get("expiryMode", base.expiry_mode.value)),
        expiry_months=int(d.get("expiryMonths", base.expiry_months)),
        expiring_soon_days=int(d.get("expiringSoonDays", base.expiring_soon_days)),
        exchange_bonus_points=int(d.get("exchangeBonusPoints", 0)),
        exchange_bonus_max_return_rate=(Decimal(d["exchangeBonusMaxReturnRate"])
                                        if d.get("exchangeBonusMaxReturnRate") is not None else None),
        store_credit_points=StoreCreditPoints(d.get("storeCreditPoints", base.store_credit_points.value)),
        return_rate_window_days=int(d.get("returnRateWindowDays", base.return_rate_window_days)),
        max_order_amount=Decimal(d.get("maxOrderAmount", str(base.max_order_amount))),
        tier_multipliers=tuple((t, Decimal(f)) for t, f in d.get("tierMultipliers", [])),
        timezone=d.get("timezone", base.timezone),
        public=bool(d.get("public", base.public)),
        tiers=schedule_from_dict(d.get("tiers")),
        posts=PostSettings.from_dict(d.get("posts")),
        vip_events=VipEventSettings.from_dict(d.get("vipEvents")),
        lifecycle=LifecycleSettings.from_dict(d.get("lifecycle")),
    )


@dataclass(frozen=True)
class ProgramSnapshot:
    """A program as loaded, with the time it was loaded (for the per-container cache)."""

    program: Program
    loaded_at: float = field(default=0.0)
