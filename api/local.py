"""`make run`: DynamoDB Local with a data folder, demo data, dev tokens, and the API under uvicorn."""
from __future__ import annotations

import argparse
import logging
from datetime import date, datetime, timedelta, timezone
from decimal import Decimal
from pathlib import Path

from api.asgi import AsgiApp
from api.dev_idp import DevIdentityProvider
from api.http import Api
from api.runtime import build_services
from api.settings import Settings
from domain import members as member_rules
from domain.errors import UserError
from infra import dynamodb_local
from domain.points.orders import Order, OrderLine
from domain.points.program import ActionRule, EarnRate, ExpiryMode, Multiplier, Period, Program
from domain.points.rewards import Reward, RewardKind
from infra.members import Members
from infra.points.jobs import PointsJobs
from infra.points.orders import OrderBook
from infra.points.program_store import ProgramCache, ProgramStore
from infra.table import create_table

ROOT = Path(__file__).resolve().parent.parent
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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8000)
    parser.add_argument("--data", type=Path, default=ROOT / ".data" / "dynamodb")
    args = parser.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s %(message)s")

    ddb = dynamodb_local.start(data_dir=args.data)
    base = f"http://{args.host}:{args.port}"
    idp = DevIdentityProvider.load_or_create(ROOT / ".dev-keys" / "signing-key.pem", issuer=f"{base}/dev-idp")
    settings = Settings(env="dev", table_name="kizuna-dev", region="us-east-1", dynamodb_endpoint=ddb.endpoint,
                        issuers=(idp.issuer_settings(DEMO_TENANT),), default_tenant=DEMO_TENANT,
                        webhook_secrets={DEMO_TENANT: "dev-webhook-secret"})
    services = build_services(settings)
    create_table(services.dynamodb, settings.table_name)
    seed_demo(DEMO_TENANT, services.programs)

    ttl = 12 * 3600
    print(f"\nKizuna is running: GraphiQL at {base}/graphql  (tenant '{DEMO_TENANT}', DynamoDB Local {ddb.endpoint})")
    print("Dev tokens (valid 12 hours; send as `Authorization: Bearer <token>`):")
    print(f"  member  demo-member-1: {idp.member_token('demo-member-1', ttl, email=DEMO_MEMBERS[0][2])}")
    print(f"  staff   admin        : {idp.staff_token('staff-admin', 'kizuna-admins', ttl=ttl)}")
    print(f"  service order system : {idp.service_token('order-system', ttl)}")
    print(f"  partner acme         : {idp.partner_token('partner-acme', ttl)}\n")

    import uvicorn

    uvicorn.run(AsgiApp(Api(services)), host=args.host, port=args.port, log_level="warning")


if __name__ == "__main__":
    main()
