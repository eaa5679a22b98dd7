"""The demo tenant `make run` starts with: a program, rewards, three members and their orders.

Seeding is idempotent: it runs at every start; rewards, members and orders that exist already (by id)
are left as they are, and the program is put back to the demo's only if it was changed. Order dates
are relative to the start, so right after the first `make run` each member has points to spend
(orders whose return window has closed, released at once) and points still pending (a recent order):
the README's operations work on this data as printed."""
from __future__ import annotations

from datetime import date, datetime, timedelta, timezone
from decimal import Decimal

from domain import members as member_rules
from domain.errors import UserError
from domain.points.orders import Order, OrderLine
from domain.points.program import ActionRule, EarnRate, ExpiryMode, Multiplier, Period, Program
from domain.points.rewards import Reward, RewardKind
from domain.posts.settings import Period as PostPeriod, PostSettings
from domain.tiers.ladder import Benefit, BenefitType, DowngradePolicy, Ladder, LadderSchedule, QualificationPeriod, Tier
from infra.members import Members
from infra.points.jobs import PointsJobs
from infra.points.orders import OrderBook
from infra.points.program_store import ProgramCache, ProgramStore
from api.demo_badges import seed_badges
from api.demo_community import seed_community
from infra.leaderboards.demo import seed_leaderboard

DEMO_TENANT = "demo"
DEMO_MEMBERS = [
    ("demo-member-1", "Aiko Tanaka", "aiko@example.com", date(1992, 4, 18)),
    ("demo-member-2", "Ben Carter", "ben@example.com", date(1988, 11, 2)),
    ("demo-member-3", "Chloé Martin", "chloe@example.com", None),
]


DEMO_PROGRAM = Program(
    earn_rates=(EarnRate("JPY", Decimal(100)), EarnRate("USD", Decimal(1)), EarnRate("EUR", Decimal(1))),
    multipliers=(Multiplier(Decimal(2), category="skincare"),),
    actions=(ActionRule("review_written", 50, cap_per_period=5, period=Period.MONTH, cooldown_seconds=3600),
             ActionRule("unboxing_post", 100, cap_per_period=1, period=Period.WEEK),
             ActionRule("birthday", 200, cap_per_period=1, period=Period.YEAR),
             # Joining earns 100 (once), and the member whose referral code a new member gives earns 200.
             ActionRule("signup", 100, cap_per_period=1),
             ActionRule("referral", 200, cap_per_period=10, period=Period.YEAR)),
    return_window_days=14, expiry_mode=ExpiryMode.AFTER_EARNING, expiry_months=12, exchange_bonus_points=30,
    timezone="Asia/Tokyo",
    # Three tiers on qualifying points earned in the calendar year (Tokyo time); a tier reached in a year
    # is kept through the next, then a 30-day grace before the year's result applies.
    tiers=LadderSchedule(current=Ladder(
        tiers=(Tier("bronze", "Bronze", 1, Decimal(0), benefits=(Benefit(BenefitType.BIRTHDAY_GIFT, points=100),)),
               Tier("silver", "Silver", 2, Decimal(1500),
                    benefits=(Benefit(BenefitType.FREE_SHIPPING, description="On orders over 5,000 yen"),
                              Benefit(BenefitType.BIRTHDAY_GIFT, points=300))),
               Tier("gold", "Gold", 3, Decimal(3000), entry_points=300,  # Chloé only: README balances are Aiko's
                    benefits=(Benefit(BenefitType.POINTS_MULTIPLIER, multiplier=Decimal("1.5")),
                              Benefit(BenefitType.FREE_SHIPPING),
                              Benefit(BenefitType.EARLY_ACCESS, hours=48, description="New rewards two days early"),
                              Benefit(BenefitType.CUSTOM, key="concierge", value="priority-chat")))),
        period=QualificationPeriod.CALENDAR_YEAR, policy=DowngradePolicy.GRACE, grace_days=30, risk_days=14,
        qualifying_actions=("unboxing_post",))),
    # Members' posts: 50 points an approved post, 150 for an order's unboxing post, at most 4 rewarded a month;
    # Gold members' posts are approved as they come in (api/demo_community.py). Post points never qualify for
    # tiers: the ladder's qualifying actions name only `unboxing_post`.
    posts=PostSettings(enabled=True, points_per_post=50, unboxing_points=150, cap=4, period=PostPeriod.MONTH,
                       auto_approve_min_rank=3),
)
DEMO_REWARDS = (
    # Within reach of a new member's signup points: a storefront can offer something on day one.
    Reward("serum-sample", "Travel-size serum", RewardKind.FREE_PRODUCT, 100, product_sku="SERUM-5"),
    Reward("yen-500-off", "500 yen off", RewardKind.FIXED_AMOUNT_DISCOUNT, 500, Decimal(500), "JPY"),
    Reward("free-shipping", "Free shipping", RewardKind.FREE_SHIPPING, 300),
    Reward("tote-bag", "Canvas tote bag", RewardKind.FREE_PRODUCT, 1200, product_sku="TOTE-01", stock_total=50,
           per_member_limit=1),
    # For Silver and above (a gate by rank: Gold members may redeem it too).
    Reward("silver-pouch", "Silver members' travel pouch", RewardKind.FREE_PRODUCT, 800, product_sku="POUCH-01",
           tier_gate="silver"),
)

_SERUM = ("SERUM-30", Decimal(4800), "skincare")  # skincare earns double (DEMO_PROGRAM's multiplier)
_TEE = ("TEE-01", Decimal(3200), "apparel")
_CANDLE = ("CANDLE-01", Decimal(3600), "home")
_GIFT_SET = ("GIFTSET-01", Decimal(19800), "skincare")


def _lines(*items: tuple[int, tuple[str, Decimal, str]]) -> tuple[OrderLine, ...]:
    return tuple(OrderLine(str(n), quantity, price, sku=sku, category=category)
                 for n, (quantity, (sku, price, category)) in enumerate(items, start=1))


# Each member's orders: (ordered days ago, delivered days ago or None, lines, subtotal, total). Ids are
# `demo-<member>-<n>` by position, so a restart records nothing twice: append new orders, never reorder.
# With the 14-day return window the first, third and fourth are past it and released at seeding,
# 210 + 324 + 844 = 1,378 points available to each member; the second (3 days old) keeps 210 pending.
DEMO_ORDERS: tuple[tuple[int, int | None, tuple[OrderLine, ...], Decimal, Decimal], ...] = (
    (40, None, _lines((2, _SERUM), (1, _TEE)), Decimal(12000), Decimal(13700)),  # 800 off: 210 points
    (3, None, _lines((2, _SERUM), (1, _TEE)), Decimal(12000), Decimal(13700)),  # 210 points, pending
    (75, 71, _lines((3, _SERUM), (1, _CANDLE)), Decimal(18000), Decimal(19800)),  # 324 points
    (30, 27, _lines((4, _SERUM), (1, _GIFT_SET), (2, _TEE)), Decimal(45400), Decimal(49940)),  # 844 points
)


def seed_demo(tenant: str, programs: ProgramCache) -> None:
    """Demo tenant: a program, rewards, three members, and orders, some already past their window."""
    members = Members(tenant)
    now = datetime.now(timezone.utc)
    store = ProgramStore(tenant, programs)
    if store.program() != DEMO_PROGRAM:
        store.save_program(DEMO_PROGRAM, "seed", now, "demo data")
    for reward in DEMO_REWARDS:
        if store.reward(reward.id) is None:
            store.save_reward(reward, "seed", now)
    for member_id, name, email, birthday in DEMO_MEMBERS:
        try:
            members.enroll(member_id, member_rules.Enrollment(name, email, birthday, True), now.isoformat(),
                           int(now.timestamp()), verified_email=email)  # as if the demo IdP vouched for them
        except UserError:
            pass  # already there from an earlier run: data survives restarts
    book = OrderBook(tenant, store)
    for i, (member_id, *_rest) in enumerate(DEMO_MEMBERS):
        for n, (days_ago, delivered_days_ago, lines, subtotal, total) in enumerate(DEMO_ORDERS):
            ordered = now - timedelta(days=days_ago)
            delivered = None if delivered_days_ago is None else now - timedelta(days=delivered_days_ago)
            book.record(Order(id=f"demo-{i}-{n}", currency="JPY", ordered_at=ordered, member_id=member_id,
                              lines=lines, subtotal=subtotal, total=total, email=None, delivered_at=delivered),
                        ordered)
    # Chloé's gift-set order for her team makes her Gold (Aiko and Ben are Silver with 1,588 qualifying).
    book.record(Order(id="demo-2-gift", currency="JPY", ordered_at=now - timedelta(days=20), member_id="demo-member-3",
                      lines=_lines((8, _GIFT_SET)), subtotal=Decimal(158400), total=Decimal(174240), email=None,
                      delivered_at=now - timedelta(days=18)), now - timedelta(days=20))
    # Orders past their return window move to available now, not at the next scheduled run.
    PointsJobs(tenant, store).release_due(now)
    seed_leaderboard(tenant, programs, now)
    seed_community(tenant, programs, now)
    seed_badges(tenant, programs, [m[0] for m in DEMO_MEMBERS])
    seed_partner(tenant, now)


DEMO_PARTNER = "demo-partner"  # its dev token's client id: `make run` prints the token


def seed_partner(tenant: str, now: datetime) -> None:
    """A partner brand (an airline's tier match, say) the demo members can consent to."""
    from domain.partners.registry import DEFAULT_RATE, MEMBER_STATUS_SCOPE, Partner, PartnerStatus
    from infra.partners.registry import PartnerRegistry
    registry = PartnerRegistry(tenant)
    if registry.get(DEMO_PARTNER) is None:
        registry.register(Partner(DEMO_PARTNER, "Sora Air", DEMO_PARTNER, (MEMBER_STATUS_SCOPE,), DEFAULT_RATE,
                                  PartnerStatus.ACTIVE, now.isoformat(), now.isoformat()), "seed", now)
