"""Where published events leave Kizuna: the EventBridge bus, the webhook senders' network settings, and the
SQS queue told about dead-lettered deliveries. Built once per container from the settings; the processor's
listeners and the retry job get it through their environment.

`holds` keeps, per container, the endpoints whose last inline attempt failed: for a minute the processor
only queues their deliveries (due at once, for the retry job) instead of waiting out another timeout per
event, so one dead receiver cannot stall the stream for every other endpoint and listener.
"""
from __future__ import annotations

import json
import threading
import time
from dataclasses import dataclass, field
from typing import Any, Callable

from domain.events_out import retries
from infra.events_out import destinations

EVENT_SOURCE = "kizuna"  # EventBridge `source` of every event; `detail-type` is the public type


class EventBus:
    """PutEvents to one bus; a refused entry raises, so the processor retries the event (at least once)."""

    def __init__(self, client: Any, bus_name: str):
        self.client, self.bus_name = client, bus_name
        self.calls = 0

    def publish(self, envelope: dict[str, Any]) -> None:
        self.calls += 1
        answer = self.client.put_events(Entries=[{
            "Source": EVENT_SOURCE, "DetailType": envelope["type"], "EventBusName": self.bus_name,
            "Detail": json.dumps(envelope, separators=(",", ":"), ensure_ascii=False)}])
        if answer.get("FailedEntryCount"):
            codes = {e.get("ErrorCode") for e in answer.get("Entries", []) if e.get("ErrorCode")}
            raise RuntimeError(f"EventBridge refused the event: {', '.join(sorted(c for c in codes if c))}")


class DeadLetterQueue:
    """Tells an SQS queue about each dead-lettered delivery: where it is, never the payload (the table
    keeps that for replay; a queue message would copy member data to another store)."""

    def __init__(self, client: Any, queue_url: str):
        self.client, self.queue_url = client, queue_url

    def tell(self, notice: dict[str, Any]) -> None:
        self.client.send_message(QueueUrl=self.queue_url, MessageBody=json.dumps(notice, separators=(",", ":")))


@dataclass
class Outlet:
    allow_loopback: bool = False  # dev mode: the local receiver on 127.0.0.1
    resolve: destinations.Resolver = destinations.resolve_host
    bus: EventBus | None = None
    dead_letters: DeadLetterQueue | None = None
    clock: Callable[[], float] = time.monotonic
    _holds: dict[str, float] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def held(self, endpoint_id: str) -> bool:
        with self._lock:
            until = self._holds.get(endpoint_id)
            return until is not None and until > self.clock()

    def hold(self, endpoint_id: str) -> None:
        with self._lock:
            self._holds[endpoint_id] = self.clock() + retries.INLINE_HOLD_SECONDS

    def release(self, endpoint_id: str) -> None:
        with self._lock:
            self._holds.pop(endpoint_id, None)


def outlet_from(settings: Any) -> Outlet:
    """The container's outlet: AWS clients only for what the settings name."""
    bus = queue = None
    if settings.event_bus_name or settings.webhook_dead_letter_queue_url:
        import boto3  # late: a webhook-only deployment never loads the clients
        options: dict[str, Any] = {"region_name": settings.region}
        if settings.aws_endpoint:
            options.update(endpoint_url=settings.aws_endpoint, aws_access_key_id="local",
                           aws_secret_access_key="local")
        if settings.event_bus_name:
            bus = EventBus(boto3.client("events", **options), settings.event_bus_name)
        if settings.webhook_dead_letter_queue_url:
            queue = DeadLetterQueue(boto3.client("sqs", **options), settings.webhook_dead_letter_queue_url)
    return Outlet(allow_loopback=settings.dev, bus=bus, dead_letters=queue)
