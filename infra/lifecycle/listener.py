"""The lifecycle listener (registered in infra/events/listeners.py):

- `member.enrolled` starts a member's lapse clock; qualifying activity (points earned for an order or an
  action the member took: `EARN`, or `ACTION` other than the birthday) moves it on, and brings a lapsed
  member back (MemberReturned). State-based (infra/lifecycle/standing.py): an activity not later than the
  one recorded changes nothing, so a replayed event tells nothing twice.
- `member.enrolled` also writes the first anniversary's due day (the `anniversaries` job rewards it);
  points earned for an order count the member's orders (once per event) and reward each order
  milestone crossed (the 1st, 10th, 25th, 50th, 100th), once (infra/lifecycle/rewards.py). A replayed
  event counts nothing and catches up on any milestone not yet rewarded.
- A birthday credit (the birthday action rule, or a tier's birthday gift) is told as `birthday.rewarded`
  (BirthdayReward), once per credit: the event's effect mark in the transaction of the outbox item.
"""
from __future__ import annotations


from infra.events.model import Env, Event, once, register
from domain.lifecycle.anniversaries import order_milestones_crossed
from domain.lifecycle.lapse import is_qualifying_activity
from domain.points.actions import BIRTHDAY
from infra.lifecycle.rewards import count_order, order_count, reward_once, start_anniversaries
from infra.lifecycle.standing import Standings
from infra.members import outbox_event
from infra.transaction import Transaction, TransactionCancelled

def qualifying(event: Event) -> bool:
    return is_qualifying_activity(event.detail.get("type"), event.detail.get("action"))


def birthday_credit(event: Event) -> bool:
    """The birthday action rule's credit, or a tier's birthday gift (its detail names the year)."""
    return event.detail.get("action") == BIRTHDAY or "birthday" in event.detail


class Lifecycle:
    name = "lifecycle"
    event_types = frozenset({"member.enrolled", "points.earned"})

    def handle(self, event: Event, env: Env) -> None:
        program = env.programs(event.tenant).program()
        if event.type == "member.enrolled" or qualifying(event):
            Standings(event.tenant).active(event.member_id, event.occurred_at, program.lifecycle.lapse_after_days,
                                           env.now)
        if event.type == "member.enrolled":
            start_anniversaries(event.tenant, event.member_id, event.occurred_at, program)
        if event.type == "points.earned" and event.detail.get("type") == "EARN":
            counted = count_order(event, f"{self.name}-orders", env.now)
            crossed = (order_milestones_crossed(counted - 1, counted) if counted is not None
                       else order_milestones_crossed(0, order_count(event.tenant, event.member_id)))
            for milestone in crossed:
                reward_once(event.tenant, event.member_id, milestone, program.lifecycle.milestone_points, program,
                            env.now)
        if event.type == "points.earned" and birthday_credit(event):
            self._tell_birthday(event, env)

    def _tell_birthday(self, event: Event, env: Env) -> None:
        tx = Transaction()
        once(tx, event, self.name, env.now_epoch)
        year = event.detail.get("birthday") or event.detail.get("reference")
        tx.put("event", outbox_event(event.tenant, event.member_pk, "birthday.rewarded", {
            "memberId": event.member_id, "points": event.detail.get("points"), "year": year,
            "tier": event.detail.get("tier"), "entry": event.detail.get("entry")},
            env.now.isoformat(), env.now_epoch))
        try:
            tx.commit()
        except TransactionCancelled as c:
            if not c.failed_on("once"):
                raise


register(Lifecycle())
