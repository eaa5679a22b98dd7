"""The demo tenant `make run` starts with: a program, rewards, three members and their orders."""
from __future__ import annotations

from datetime import date, datetime, timedelta, timezone
from decimal import Decimal

from domain import members as member_rules
from domain.errors import UserError
from domain.points.orders import Order, OrderLine
from domain.points.program import ActionRule, EarnRate, ExpiryMode, Multiplier, Period, Program
from domain.points.rewards import Reward, RewardKind
from infra.members import Members
from infra.points.jobs import PointsJobs
from infra.points.orders import OrderBook
from infra.points.program_store import ProgramCache, ProgramStore

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
             ActionRule("birthday", 200, cap_per_period=1, period=Period.YEAR)),
    return_window_days=14, expiry_mode=ExpiryMode.AFTER_EARNING, expiry_months=12, exchange_bonus_points=30,
    timezone="Asia/Tokyo",
)
DEMO_REWARDS = (
    Reward("yen-500-off", "500 yen off", RewardKind.FIXED_AMOUNT_DISCOUNT, 500, Decimal(500), "JPY"),
    Reward("free-shipping", "Free shipping", RewardKind.FREE_SHIPPING, 300),
    Reward("tote-bag", "Canvas tote bag", RewardKind.FREE_PRODUCT, 1200, product_sku="TOTE-01", stock_total=50,
           per_member_limit=1),
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
        for n, days_ago in enumerate((40, 3)):
            ordered = now - timedelta(days=days_ago)
            book.record(Order(id=f"demo-{i}-{n}", currency="JPY", ordered_at=ordered, member_id=member_id,
                              lines=(OrderLine("1", 2, Decimal(4800), sku="SERUM-30", category="skincare"),
                                     OrderLine("2", 1, Decimal(3200), sku="TEE-01", category="apparel")),
                              subtotal=Decimal(12000), total=Decimal(13700), email=None), ordered)
    PointsJobs(tenant, store).release_due(now)
