"""A completed profile and a successful referral are told to the listeners once each, as events of
their own, whether or not the program credits points for them: badges count them."""
from __future__ import annotations

import uuid
from datetime import date, datetime, timezone

from domain.badges.criteria.base import Spec
from domain.badges.definitions import Badge
from domain.members import Enrollment
from infra import keys
from infra.badges.items import BadgeAward
from infra.badges.store import BadgeStore
from infra.items import OutboxEvent, TableItem
from infra.members import Members
from infra.points.adjustments import ActionCredits
from infra.points.orders import OrderBook
from infra.points.program_store import ProgramStore
from infra.points.welcome import Welcome
from tests.support import new_tenant


def test_a_completed_profile_and_a_successful_referral_each_reach_the_badges_once(services, events):
    tenant = new_tenant()
    store = ProgramStore(tenant, services.programs)
    now = datetime.now(timezone.utc)
    badges = BadgeStore(tenant, store)
    badges.save(Badge("complete", "All about you", Spec("PROFILE_COMPLETED")), "test", now, existing=None)
    badges.save(Badge("ambassador", "Ambassador", Spec("SUCCESSFUL_REFERRALS", count=1)), "test", now, existing=None)
    services.programs.invalidate(tenant)
    members, orders = Members(tenant), OrderBook(tenant, store)
    welcome = Welcome(tenant, store, orders, ActionCredits(tenant, store, orders))
    referrer, friend = f"m-{uuid.uuid4().hex[:8]}", f"m-{uuid.uuid4().hex[:8]}"
    members.enroll(referrer, Enrollment("Ren", f"{referrer}@example.com", None, False), now.isoformat(),
                   int(now.timestamp()))
    joined = members.enroll(friend, Enrollment("Mio", f"{friend}@example.com", date(1990, 5, 1), True),
                            now.isoformat(), int(now.timestamp()))
    for _ in range(2):  # a retried enrollment tells nothing twice
        welcome.enrolled(joined, referrer, now)
    events.drain()

    def held(m: str) -> set[str]:
        return {x.badge_id for x in TableItem.query(keys.member_pk(tenant, m), consistent_read=True)
                if isinstance(x, BadgeAward)}

    def told(m: str, kind: str) -> int:
        return sum(1 for x in TableItem.query(keys.member_pk(tenant, m), consistent_read=True)
                   if isinstance(x, OutboxEvent) and x.event_type == kind)

    assert held(friend) == {"complete"} and held(referrer) == {"ambassador"}
    assert told(friend, "member.profile_completed") == 1 and told(referrer, "referral.succeeded") == 1
