"""The events-out listener (registered in infra/events/listeners.py): every published type, to the EventBridge
bus once and to every enabled endpoint that wants it, each delivery once.

Per event: one Query of the tenant's endpoints (with no bus and no endpoint wanting the type, that is
all); its publication (the envelope with the member's sequence number, decided once and kept:
infra/events_out/publication.py), the bus (marked on the publication after PutEvents, so a batch handled
again publishes nothing twice; a refused PutEvents raises and the event comes again), then for each
matching endpoint the delivery item written before its first attempt (infra/events_out/deliveries.py). A
delivery that exists already is left to its own state: the retry job owns it. The first attempt is made
here, unless the endpoint's last inline attempt in this container failed within the minute (then the
delivery waits, due now, for the job): a dead receiver costs one timeout a minute, not one per event.
"""
from __future__ import annotations

from domain.events_out import catalog
from infra.events.model import Env, Event, register
from infra.events_out.deliveries import Deliveries
from infra.events_out.endpoints import Endpoints
from infra.events_out.outlet import Outlet
from infra.events_out.publication import mark_on_bus, published


class EventsOut:
    name = "events-out"
    event_types = frozenset(catalog.PUBLIC)

    def __init__(self) -> None:
        self.default_outlet = Outlet()  # production rules, webhooks only: a processor built without one

    def handle(self, event: Event, env: Env) -> None:
        public = catalog.public_name(event.type)
        if public is None:
            return
        outlet: Outlet = env.outlet or self.default_outlet
        endpoints = Endpoints(event.tenant).matching(public)
        if outlet.bus is None and not endpoints:
            return  # nobody to tell: one Query, and no sequence number spent
        publication = published(event, env)
        assert publication is not None
        envelope = publication.envelope
        if outlet.bus is not None and not publication.on_bus:
            outlet.bus.publish(envelope)
            mark_on_bus(publication)
        deliveries = Deliveries(event.tenant)
        for endpoint in endpoints:
            item = deliveries.start(endpoint, envelope, env.now)
            if item is not None and not outlet.held(endpoint.id):
                deliveries.attempt(item, endpoint, outlet, env.now)


register(EventsOut())
