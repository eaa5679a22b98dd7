"""Unboxing invites (registered in infra/events/listeners.py): a delivered order makes its member
eligible for one unboxing post. On `order.delivered` the listener writes `UNBOX#<order>` (INVITED, open
for the program's window, TTL when it closes) unless the order has one already: a post submitted first
marked it POSTED, and a replayed event finds its own invite. State-based, so exactly once."""
from __future__ import annotations

from datetime import datetime, timedelta

from infra import keys
from infra.events.model import Env, Event, register
from infra.members import outbox_event
from infra.posts.items import UnboxInvite
from infra.posts.store import INVITED
from infra.transaction import Transaction, TransactionCancelled


class UnboxingInvites:
    name = "posts"
    event_types = frozenset({"order.delivered"})

    def handle(self, event: Event, env: Env) -> None:
        order_id = event.detail.get("orderId")
        if not isinstance(order_id, str) or not order_id:
            return
        settings = env.programs(event.tenant).program().posts
        if not settings.enabled:
            return
        raw = event.detail.get("deliveredAt")
        delivered = datetime.fromisoformat(raw) if isinstance(raw, str) else event.occurred_at
        closes = delivered + timedelta(days=settings.unboxing_window_days)
        tx = Transaction()
        tx.put("invite", UnboxInvite(event.member_pk, keys.unbox_sk(order_id), order_id=order_id, state=INVITED,
                                     delivered_at=delivered.isoformat(), closes_at=closes.isoformat(),
                                     expires_at=int(closes.timestamp())),
               UnboxInvite.PK.does_not_exist())
        # Storefronts and messages invite the member to post (the events-out path delivers it), once.
        tx.put("event", outbox_event(event.tenant, event.member_pk, "post.unboxing_invited", {
            "memberId": event.member_id, "orderId": order_id, "closesAt": closes.isoformat()},
            env.now.isoformat(), env.now_epoch))
        try:
            tx.commit()
        except TransactionCancelled as c:
            if c.failed_on("invite"):
                return  # invited before, or the order has its post already
            raise


LISTENER = register(UnboxingInvites())
