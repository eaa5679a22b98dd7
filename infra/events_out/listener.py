"""The events-out listener (registered in infra/events/listeners.py): every published type, to the EventBridge
bus once and to every enabled endpoint that wants it, each delivery once.

Per event: the bus first (an effect mark after PutEvents, so a batch handled again publishes nothing twice;
a refused PutEvents raises and the event comes again), then one Query of the tenant's endpoints and, for
each match, the delivery item written before its first attempt (infra/events_out/deliveries.py). A
delivery that exists already is left to its own state: the retry job owns it. The first attempt is made
here, unless the endpoint's last inline attempt in this container failed within the minute (then the
delivery waits, due now, for the job): a dead receiver costs one timeout a minute, not one per event.
"""
from __future__ import annotations

from domain.events_out import catalog
from infra.dynamo_errors import call
from infra.events.items import EffectMark
from infra.events.model import EFFECT_TTL_SECONDS, Env, Event, effect_sk, register
from infra.events_out.deliveries import Deliveries
from infra.events_out.endpoints import Endpoints
from infra.events_out.envelopes import envelope_of
from infra.events_out.outlet import Outlet

BUS = "events-out-bus"  # the bus publication's effect mark


class EventsOut:
    name = "events-out"
    event_types = frozenset(catalog.PUBLIC)

    def __init__(self) -> None:
        self.default_outlet = Outlet()  # production rules, webhooks only: a processor built without one

    def handle(self, event: Event, env: Env) -> None:
        envelope = envelope_of(event)
        if envelope is None:
            return
        outlet: Outlet = env.outlet or self.default_outlet
        if outlet.bus is not None:
            self._publish_once(event, envelope, outlet, env)
        deliveries = Deliveries(event.tenant)
        for endpoint in Endpoints(event.tenant).matching(envelope["type"]):
            item = deliveries.start(endpoint, envelope, env.now)
            if item is not None and not outlet.held(endpoint.id):
                deliveries.attempt(item, endpoint, outlet, env.now)

    @staticmethod
    def _publish_once(event: Event, envelope: dict, outlet: Outlet, env: Env) -> None:
        sk = effect_sk(event, BUS)
        try:
            call(lambda: EffectMark.get(event.member_pk, sk, consistent_read=True), what="effect mark")
            return  # published before
        except EffectMark.DoesNotExist:
            pass
        assert outlet.bus is not None
        outlet.bus.publish(envelope)
        mark = EffectMark(event.member_pk, sk, listener=BUS, expires_at=env.now_epoch + EFFECT_TTL_SECONDS)
        call(lambda: mark.save(), what="effect mark")


register(EventsOut())
