"""The demo tenant's badges and a running challenge (`seed_badges`, called by `api.demo.seed_demo` after
the members and their orders). Idempotent like the rest of the demo: definitions that exist are left
alone, the challenge's window is moved on when a restart finds it ending within a week, and the demo
members' events still in the outbox are handed to the progress listener once more (a replay changes
nothing: each event is applied once), so `me.badges` shows earned badges and progress right after start,
whether or not the stream processor has reached those events yet."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone
from decimal import Decimal

from domain.badges.criteria import Spec
from domain.badges.definitions import Badge
from domain.challenges.definitions import Challenge
from infra import keys
from infra.badges.store import BadgeStore
from infra.challenges.store import ChallengeStore
from infra.events.model import Env, Event
from infra.items import OutboxEvent, TableItem, read_partition
from infra.points.program_store import ProgramCache, ProgramStore
from infra.progress.listener import LISTENER

DEMO_BADGES = (
    Badge("first-order", "First order", Spec("FIRST_PURCHASE"), "Thank you for your first order.",
          "https://example.com/badges/first-order.png"),  # no bonus: the demo balances stay as the README prints them
    Badge("regular", "Regular", Spec("PURCHASES", count=5), "Five orders.", "https://example.com/badges/regular.png"),
    Badge("big-spender", "Big spender", Spec("SPEND_TOTAL", amount=Decimal(100000), currency="JPY"),
          "100,000 JPY of goods.", "https://example.com/badges/big-spender.png", bonus_points=500),
    Badge("reviewer", "Reviewer", Spec("CUSTOM_ACTIVITY", count=3, action="review_written"), "Three reviews written.",
          "https://example.com/badges/reviewer.png", bonus_points=100),
    Badge("three-months", "Three months running", Spec("PURCHASE_STREAK_MONTHS", count=3),
          "An order in each of three months in a row.", "https://example.com/badges/streak.png"),
    Badge("night-owl", "Night owl", Spec("PURCHASES", count=20), "A secret: find out how.",
          "https://example.com/badges/night-owl.png", bonus_points=200, secret=True),
    Badge("unboxing-star", "Unboxing star", None, "Won the unboxing challenge.",
          "https://example.com/badges/unboxing-star.png"),
)


def demo_challenge(now: datetime) -> Challenge:
    return Challenge("unboxing-month", "Two unboxing posts this month",
                     Spec("CUSTOM_ACTIVITY", count=2, action="unboxing_post"),
                     starts_at=now - timedelta(days=3), ends_at=now + timedelta(days=30),
                     description="Post two unboxing videos: 300 points and the Unboxing star badge.",
                     reward_points=300, reward_badge="unboxing-star")


def seed_badges(tenant: str, programs: ProgramCache, member_ids: list[str]) -> None:
    now = datetime.now(timezone.utc)
    store = ProgramStore(tenant, programs)
    badges, challenges = BadgeStore(tenant, store), ChallengeStore(tenant, store)
    for badge in DEMO_BADGES:
        if badges.get(badge.id) is None:
            badges.save(badge, "seed", now, existing=None)
    current = challenges.fresh("unboxing-month")
    if current is None or current[0].ends_at < now + timedelta(days=7):
        challenges.save(demo_challenge(now), "seed", now, existing=current)
    env = Env(now=now, programs=lambda t: ProgramStore(t, programs))
    for member_id in member_ids:
        pk = keys.member_pk(tenant, member_id)
        for item in read_partition(pk, TableItem.SK.startswith(keys.OUTBOX_PREFIX)):
            if isinstance(item, OutboxEvent) and item.event_type in LISTENER.event_types:
                LISTENER.handle(Event(tenant, member_id, item.SK[len(keys.OUTBOX_PREFIX):], item.event_type,
                                      datetime.fromisoformat(item.occurred_at), item.detail), env)
