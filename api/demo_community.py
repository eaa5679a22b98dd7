"""The demo tenant's community (`seed_community`, called by `api.demo.seed_demo` after the members and their
orders): members' posts on the public feed and in the moderation queue, and an upcoming VIP event with its
seats taken and a waitlist.

The README's numbers and the storefront examples' expect Aiko and Ben at the balance their orders give
them, so nothing here credits or charges either: the approved posts are Chloé's (Gold, so the program's
auto-approval takes them as she posts), Ben's post waits for a moderator, and the event is free of points.
Post points never count for tiers here (the ladder qualifies `unboxing_post` actions only).

Idempotent like the rest of the demo: a post is found by its link among its member's posts (and approved
if it should be and is still pending), a registration by its member, and the event is moved on a week
when a restart finds it starting within two days (or over); a cancelled one is left as staff left it."""
from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta

from domain import calendar
from domain.posts import rules
from domain.posts.rules import PostState
from domain.posts.urls import Platform, normalize
from domain.vip_events.model import EventStatus, VipEvent
from infra.points.program_store import ProgramCache, ProgramStore
from infra.posts.desk import Moderator, PostDesk
from infra.posts.store import Posts
from infra.vip_events.catalog import EventCatalog, event_of
from infra.vip_events.registrations import Registrations

log = logging.getLogger("kizuna.demo")

AIKO, BEN, CHLOE = "demo-member-1", "demo-member-2", "demo-member-3"
SEED_MODERATOR = Moderator(actor="seed")


@dataclass(frozen=True)
class DemoPost:
    member_id: str
    platform: Platform
    url: str
    caption: str
    tags: tuple[str, ...]
    display_name: str
    approved: bool
    hours_ago: int  # when it was posted (and, for Chloé's, approved): the feed shows them in this order
    order_id: str | None = None  # a delivered order of theirs: the order's unboxing post


DEMO_POSTS = (
    DemoPost(CHLOE, Platform.INSTAGRAM, "https://www.instagram.com/p/DemoSerum01/?igsh=demo",
             "Two weeks with the serum: my skin has never been this calm.", ("serum", "skincare"), "Chloé M.", True,
             50),
    # Her gift-set order (api/demo.py `demo-2-gift`), delivered 18 days before the first start.
    DemoPost(CHLOE, Platform.TIKTOK, "https://www.tiktok.com/@chloe.m/video/7301000000000000001",
             "Unboxing the gift sets for my team!", ("unboxing", "giftset", "serum"), "Chloé M.", True, 26,
             order_id="demo-2-gift"),
    DemoPost(CHLOE, Platform.YOUTUBE, "https://youtu.be/dEmOsErUm01",
             "Morning routine: serum, then the tee for the run.", ("routine", "serum"), "Chloé M.", True, 5),
    DemoPost(BEN, Platform.INSTAGRAM, "https://www.instagram.com/p/DemoCandle02/",
             "The candle, on a rainy Sunday.", ("candle", "home"), "Ben C.", False, 2),
)

EVENT_ID = "skincare-salon"
EVENT_CAPACITY = 2
EVENT_MOVE_WITHIN = timedelta(days=2)
# Registered in this order on the first start: the two seats go to Aiko and Chloé, Ben is first in line.
EVENT_REGISTRANTS = (AIKO, CHLOE, BEN)


def demo_event(now: datetime, tz: str) -> VipEvent:
    """A week ahead, 19:00-21:00 on the program's clock."""
    starts = calendar.day_start(calendar.local_day(now, tz) + timedelta(days=7), tz) + timedelta(hours=19)
    return VipEvent(event_id=EVENT_ID, title="Skincare salon with our formulator",
                    description="An evening at the atelier: how the serum is made, a skin consultation, and a "
                                "first look at the spring line.",
                    venue="Kizuna atelier, Omotesando, Tokyo", starts_at=starts, ends_at=starts + timedelta(hours=2),
                    capacity=EVENT_CAPACITY, points_cost=0, attendance_points=100, public=True)


def seed_community(tenant: str, programs: ProgramCache, now: datetime) -> None:
    store = ProgramStore(tenant, programs)
    _seed_posts(tenant, store, now)
    _seed_event(tenant, store, now)


def _seed_posts(tenant: str, store: ProgramStore, now: datetime) -> None:
    posts = Posts(tenant, store)
    desk = PostDesk(tenant, store, posts)
    for member_id in dict.fromkeys(p.member_id for p in DEMO_POSTS):
        mine = {item.url: item for _, item in posts.member_posts(member_id, 50, None).edges}
        for spec in (p for p in DEMO_POSTS if p.member_id == member_id):
            at = now - timedelta(hours=spec.hours_ago)
            found = mine.get(normalize(spec.platform, spec.url))
            if found is None:
                found = desk.submit(member_id, rules.check_submission(
                    spec.platform, spec.url, spec.caption, list(spec.tags), None, spec.display_name, spec.order_id),
                    at)
            if spec.approved and found.state == PostState.PENDING.value:
                log.info("demo post of %s was not auto-approved; approving it", member_id)
                desk.approve(found.post_id, SEED_MODERATOR, at, member_id=member_id)


def _seed_event(tenant: str, store: ProgramStore, now: datetime) -> None:
    catalog = EventCatalog(tenant, store)
    item = catalog.item(EVENT_ID)
    if item is not None and item.status != EventStatus.SCHEDULED.value:
        return  # cancelled by staff: left as they left it
    if item is None or event_of(item).starts_at < now + EVENT_MOVE_WITHIN:
        catalog.save(demo_event(now, store.program().timezone), "seed", now, existing=item)
    registrations = Registrations(tenant, store)
    for member_id in EVENT_REGISTRANTS:
        if registrations.registration(EVENT_ID, member_id) is None:
            registrations.register(member_id, EVENT_ID, now)
