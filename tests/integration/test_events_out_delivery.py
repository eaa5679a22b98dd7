"""Published events, end to end: outbox items written to DynamoDB Local come out of its stream as Lambda would
hand them over, the events-out listener delivers them to a webhook receiver on 127.0.0.1 (verified with the
`standardwebhooks` package) and to an EventBridge bus (moto's server, routed by a rule to an SQS queue we
read back), once per event however often a batch is handled; a receiver answering 500 gets the retry
matrix, then the dead-letter path (the staff list, the SQS notice) and a replay; a processor killed
between writing a delivery and sending it loses nothing."""
from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone
from typing import Any, Iterator

import boto3
import pytest
from standardwebhooks import Webhook

from api.jobs import TenantJobs
from domain.events_out import catalog
from domain.events_out.deliveries import ENDPOINT_DISABLED, DeliveryStatus
from domain.events_out.retries import MAX_ATTEMPTS, SCHEDULE_SECONDS
from infra import keys
from infra.events.model import Event
from infra.events.processor import Processor, env_factory, to_event
from infra.events.stream import Outcome, StreamReader
from infra.events_out.deliveries import Deliveries
from infra.events_out.endpoints import Endpoints, WebhookEndpointItem
from infra.events_out.listener import EventsOut
from infra.events_out.outlet import DeadLetterQueue, EventBus, Outlet
from infra.events_out.retry_job import retry_deliveries
from infra.members import outbox_event
from infra.points.program_store import ProgramStore
from tests.api.test_storefront import Shop, own_tenant
from tests.support import check_page_ends_exactly, moto_server
from tests.webhook_receiver import Receiver, loopback_resolver

REGION = "us-east-1"


class Killed(BaseException):
    """The process dying where it is raised: nothing catches a BaseException on the way out."""


class Recorder(Processor):
    """Collects the stream's records, as Lambda would batch them, instead of handling them."""

    def __init__(self, reader: StreamReader):
        super().__init__(lambda: None, [], reader=reader)  # type: ignore[arg-type, return-value]
        self.records: list[dict[str, Any]] = []

    def handle(self, records: list[dict[str, Any]]) -> Outcome:
        self.records += records
        return Outcome(done=len(records))


@pytest.fixture
def shop(dynamodb_endpoint, table_name, services, idp) -> Iterator[Shop]:
    del services
    yield from own_tenant(dynamodb_endpoint, table_name, idp)


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    r = Receiver()
    yield r
    r.close()


@pytest.fixture
def stream(stream_of_table) -> Recorder:
    client, arn = stream_of_table
    return Recorder(StreamReader(client, arn, start="LATEST"))


def add_endpoint(tenant: str, url: str, types: tuple[str, ...] = ("*",), enabled: bool = True) -> tuple[str, str]:
    item, secret = Endpoints(tenant).new_item(url, types, enabled, None, datetime.now(timezone.utc))
    item.save(WebhookEndpointItem.PK.does_not_exist())
    return item.endpoint_id, secret


def write_events(tenant: str, member_id: str, types: list[str]) -> list[str]:
    """One outbox item per type, each written as a change's transaction writes it; their ids."""
    now = datetime.now(timezone.utc)
    ids = []
    for t in types:
        item = outbox_event(tenant, keys.member_pk(tenant, member_id), t, {"points": 10, "kind": t}, now.isoformat(),
                            int(now.timestamp()))
        item.save()
        ids.append(item.SK.removeprefix(keys.OUTBOX_PREFIX))
    return ids


def batch(stream: Recorder, tenant: str, count: int) -> list[dict[str, Any]]:
    """This tenant's outbox records from the stream, once all `count` are there."""
    deadline = datetime.now(timezone.utc) + timedelta(seconds=20)
    while True:
        stream.drain()
        mine = [r for r in stream.records if (e := to_event(r)) is not None and e.tenant == tenant]
        if len(mine) >= count or datetime.now(timezone.utc) > deadline:
            assert len(mine) == count
            return mine


def processor(services, outlet: Outlet) -> Processor:
    return Processor(env_factory(services.programs, outlet=outlet), [EventsOut()])


def loopback_outlet(**kw: Any) -> Outlet:
    return Outlet(allow_loopback=True, resolve=loopback_resolver([]), **kw)


def jobs_of(shop: Shop, services, outlet: Outlet) -> TenantJobs:
    jobs = TenantJobs(shop.tenant, ProgramStore(shop.tenant, services.programs))
    jobs.outlet = outlet
    return jobs


def test_every_published_type_reaches_the_receiver_once_signed_even_when_its_batch_is_handled_twice(
        shop: Shop, services, stream: Recorder, receiver: Receiver) -> None:
    _, secret = add_endpoint(shop.tenant, receiver.url())
    types = list(catalog.PUBLIC)
    ids = write_events(shop.tenant, "m-every", types)
    records = batch(stream, shop.tenant, len(types))
    outlet = loopback_outlet()
    assert processor(services, outlet).handle_records(records) == []
    assert processor(services, loopback_outlet()).handle_records(records) == []  # Lambda handing it again
    verifier = Webhook(secret)
    got = [verifier.verify(body, headers) for _, headers, body in receiver.requests]
    assert sorted(e["id"] for e in got) == sorted(ids)
    assert sorted(e["type"] for e in got) == sorted(catalog.PUBLIC.values())
    # The member's events numbered in the order written; no profile here, so consent is false.
    assert [e["sequence"] for e in sorted(got, key=lambda e: ids.index(e["id"]))] == list(range(1, len(types) + 1))
    assert {json.dumps(e["member"], sort_keys=True) for e in got} == {
        json.dumps({"marketingConsent": False, "tier": None, "pointsAvailable": 0, "locale": None}, sort_keys=True)}
    assert all(headers["webhook-id"] == json.loads(body)["id"] for _, headers, body in receiver.requests)
    assert {d.status for i in ids for d in Deliveries(shop.tenant).of_event(i)} == {DeliveryStatus.DELIVERED}


def test_an_endpoint_gets_only_the_types_it_asked_for_and_a_disabled_one_nothing(
        shop: Shop, services, stream: Recorder, receiver: Receiver) -> None:
    add_endpoint(shop.tenant, receiver.url("/tiers"), ("TierChanged",))
    add_endpoint(shop.tenant, receiver.url("/off"), enabled=False)
    write_events(shop.tenant, "m-types", ["points.earned", "tier.changed", "badge.awarded"])
    records = batch(stream, shop.tenant, 3)
    assert processor(services, loopback_outlet()).handle_records(records) == []
    assert [(path, json.loads(body)["type"]) for path, _, body in receiver.requests] == [("/tiers", "TierChanged")]


def test_a_receiver_answering_500_gets_the_retry_matrix_then_the_dead_letter_path_and_a_replay_delivers(
        shop: Shop, services, stream: Recorder, receiver: Receiver) -> None:
    receiver.status = 500
    endpoint_id, _ = add_endpoint(shop.tenant, receiver.url())
    [event_id] = write_events(shop.tenant, "m-retry", ["points.earned"])
    records = batch(stream, shop.tenant, 1)
    with moto_server() as aws:
        sqs = boto3.client("sqs", endpoint_url=aws, region_name=REGION, aws_access_key_id="t", aws_secret_access_key="t")
        queue = sqs.create_queue(QueueName="webhook-dead-letters")["QueueUrl"]
        outlet = loopback_outlet(dead_letters=DeadLetterQueue(sqs, queue))
        assert processor(services, outlet).handle_records(records) == []
        [first] = Deliveries(shop.tenant).of_event(event_id)
        assert (first.status, first.attempts, first.last_status) == (DeliveryStatus.PENDING, 1, 500)
        started = datetime.fromisoformat(first.last_attempt_at)
        jobs = jobs_of(shop, services, outlet)

        assert retry_deliveries(jobs, started + timedelta(seconds=SCHEDULE_SECONDS[0] - 1)).processed == 0  # not due
        at = started
        for wait in SCHEDULE_SECONDS:
            at += timedelta(seconds=wait)
            report = retry_deliveries(jobs, at)
            assert (report.processed, report.failed) == (1, 0)
        assert retry_deliveries(jobs, at + timedelta(days=2)).processed == 0  # nothing left due
        [dead] = Deliveries(shop.tenant).of_event(event_id)
        assert (dead.status, dead.attempts, dead.last_status) == (DeliveryStatus.DEAD, MAX_ATTEMPTS, 500)
        assert len(receiver.requests) == MAX_ATTEMPTS
        assert {h["webhook-id"] for _, h, _ in receiver.requests} == {event_id}
        notices = sqs.receive_message(QueueUrl=queue, MaxNumberOfMessages=10)["Messages"]
        assert [json.loads(m["Body"])["eventId"] for m in notices] == [event_id]
        assert "points" not in notices[0]["Body"]  # a pointer to the delivery, never the payload

    listed = shop.admin.ok("""{ webhookDeadLetters(first: 5) { nodes { id eventId endpointId eventType status
        attempts lastStatus } } }""")["webhookDeadLetters"]["nodes"]
    assert [(n["eventId"], n["endpointId"], n["eventType"], n["status"], n["attempts"], n["lastStatus"])
            for n in listed] == [(event_id, endpoint_id, "PointsEarned", "DEAD", MAX_ATTEMPTS, 500)]
    replayed = shop.admin.ok("""mutation($id: ID!) { webhookDeliveryReplay(id: $id) { delivery { status attempts
        replays } userErrors { field code } } }""", {"id": listed[0]["id"]})["webhookDeliveryReplay"]
    assert replayed == {"delivery": {"status": "PENDING", "attempts": 0, "replays": 1}, "userErrors": []}
    again = shop.admin.ok("""mutation($id: ID!) { webhookDeliveryReplay(id: $id) { delivery { status }
        userErrors { field code } } }""", {"id": listed[0]["id"]})["webhookDeliveryReplay"]
    assert again == {"delivery": None, "userErrors": [{"field": "id", "code": "INVALID_STATE"}]}

    receiver.status = 204
    outlet = loopback_outlet()
    assert retry_deliveries(jobs_of(shop, services, outlet), shop.now + timedelta(seconds=1)).processed == 1
    [delivered] = Deliveries(shop.tenant).of_event(event_id)
    assert (delivered.status, delivered.attempts, delivered.replays) == (DeliveryStatus.DELIVERED, 1, 1)
    assert shop.admin.ok("{ webhookDeadLetters(first: 5) { nodes { id } } }")["webhookDeadLetters"]["nodes"] == []


def test_after_a_failed_attempt_the_processor_queues_that_endpoints_deliveries_instead_of_waiting_on_each(
        shop: Shop, services, stream: Recorder, receiver: Receiver) -> None:
    receiver.status = 503
    add_endpoint(shop.tenant, receiver.url())
    ids = write_events(shop.tenant, "m-held", ["points.earned", "points.redeemed", "tier.changed"])
    records = batch(stream, shop.tenant, 3)
    outlet = loopback_outlet()
    assert processor(services, outlet).handle_records(records) == []
    assert len(receiver.requests) == 1  # the first; the other two wait for the job
    waiting = [d for i in ids for d in Deliveries(shop.tenant).of_event(i)]
    assert sorted(d.attempts for d in waiting) == [0, 0, 1]
    assert {d.status for d in waiting} == {DeliveryStatus.PENDING}
    receiver.status = 204
    now = datetime.now(timezone.utc) + timedelta(seconds=SCHEDULE_SECONDS[0] + 1)
    assert retry_deliveries(jobs_of(shop, services, loopback_outlet()), now).processed == 3
    assert sorted(json.loads(b)["id"] for _, _, b in receiver.requests[1:]) == sorted(ids)


def test_a_processor_killed_between_writing_a_delivery_and_sending_it_loses_nothing_and_doubles_nothing(
        shop: Shop, services, stream: Recorder, receiver: Receiver) -> None:
    add_endpoint(shop.tenant, receiver.url())
    ids = write_events(shop.tenant, "m-killed", ["points.earned"] * 5)
    records = batch(stream, shop.tenant, 5)
    sends = 0

    def dies_on_the_third(host: str) -> list[str]:
        nonlocal sends
        sends += 1
        if sends == 3:
            raise Killed()
        return ["127.0.0.1"]

    with pytest.raises(Killed):
        processor(services, Outlet(allow_loopback=True, resolve=dies_on_the_third)).handle_records(records)
    assert len(receiver.requests) == 2
    # Lambda hands the batch in again to a new container; the job later sends what was left due.
    assert processor(services, loopback_outlet()).handle_records(records) == []
    later = datetime.now(timezone.utc) + timedelta(seconds=1)
    assert retry_deliveries(jobs_of(shop, services, loopback_outlet()), later).processed == 1
    assert sorted(json.loads(b)["id"] for _, _, b in receiver.requests) == sorted(ids)


def test_every_published_event_goes_to_the_event_bus_once_with_the_envelope_as_detail(
        shop: Shop, services, stream: Recorder) -> None:
    ids = write_events(shop.tenant, "m-bus", ["points.earned", "tier.changed"])
    records = batch(stream, shop.tenant, 2)
    with moto_server() as aws:
        options = dict(endpoint_url=aws, region_name=REGION, aws_access_key_id="t", aws_secret_access_key="t")
        events, sqs = boto3.client("events", **options), boto3.client("sqs", **options)
        events.create_event_bus(Name="kizuna-test")
        queue = sqs.create_queue(QueueName="bus-tap")["QueueUrl"]
        queue_arn = sqs.get_queue_attributes(QueueUrl=queue, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
        events.put_rule(Name="all", EventBusName="kizuna-test", EventPattern=json.dumps({"source": ["kizuna"]}))
        events.put_targets(Rule="all", EventBusName="kizuna-test", Targets=[{"Id": "tap", "Arn": queue_arn}])
        bus = EventBus(events, "kizuna-test")
        assert processor(services, loopback_outlet(bus=bus)).handle_records(records) == []
        assert processor(services, loopback_outlet(bus=bus)).handle_records(records) == []  # handled again
        got = []
        for _ in range(5):
            got += sqs.receive_message(QueueUrl=queue, MaxNumberOfMessages=10, WaitTimeSeconds=1).get("Messages", [])
        delivered = [json.loads(m["Body"]) for m in got]
    assert bus.calls == 2
    assert sorted(d["detail"]["id"] for d in delivered) == sorted(ids)
    assert sorted(d["detail-type"] for d in delivered) == ["PointsEarned", "TierChanged"]
    assert {d["source"] for d in delivered} == {"kizuna"}


def test_a_deleted_endpoint_cancels_its_waiting_deliveries_and_a_disabled_one_dead_letters_them(
        shop: Shop, services, stream: Recorder, receiver: Receiver) -> None:
    receiver.status = 500
    gone, _ = add_endpoint(shop.tenant, receiver.url("/gone"))
    off, _ = add_endpoint(shop.tenant, receiver.url("/off"))
    [event_id] = write_events(shop.tenant, "m-ends", ["points.earned"])
    assert processor(services, loopback_outlet()).handle_records(batch(stream, shop.tenant, 1)) == []
    Endpoints(shop.tenant).item(gone).delete()
    item = Endpoints(shop.tenant).item(off)
    item.update(actions=[WebhookEndpointItem.enabled.set(False)])
    later = datetime.now(timezone.utc) + timedelta(minutes=1)
    assert retry_deliveries(jobs_of(shop, services, loopback_outlet()), later).processed == 2
    by_endpoint = {d.endpoint_id: d for d in Deliveries(shop.tenant).of_event(event_id)}
    assert by_endpoint[gone].status is DeliveryStatus.CANCELLED
    assert (by_endpoint[off].status, by_endpoint[off].last_error) == (DeliveryStatus.DEAD, ENDPOINT_DISABLED)
    assert len(receiver.requests) == 2  # only the first attempts


PAGE = "edges { cursor } pageInfo { hasNextPage hasPreviousPage startCursor endCursor }"


def test_the_dead_letters_page_newest_first_and_a_page_ending_at_the_end_has_no_next(
        shop: Shop, services, stream: Recorder) -> None:
    add_endpoint(shop.tenant, "http://localhost:9/off", enabled=False)
    ids = write_events(shop.tenant, "m-page", ["points.earned"] * 3)
    records = batch(stream, shop.tenant, 3)
    assert processor(services, loopback_outlet()).handle_records(records) == []  # disabled: nothing starts
    off = Endpoints(shop.tenant).all()[0]
    deliveries = Deliveries(shop.tenant)
    for i, event_id in enumerate(ids):
        item = deliveries.start(off, {"id": event_id, "type": "PointsEarned", "memberId": "m-page"},
                                datetime.now(timezone.utc) + timedelta(seconds=i))
        assert item is not None
        assert deliveries.attempt(item, off, loopback_outlet(), datetime.now(timezone.utc) + timedelta(seconds=i))

    def page(f: int, a: str | None) -> dict:
        return shop.admin.ok("query($f: Int, $a: String) { webhookDeadLetters(first: $f, after: $a) { %s "
                             "nodes { eventId } } }" % PAGE, {"f": f, "a": a})["webhookDeadLetters"]
    assert [n["eventId"] for n in page(3, None)["nodes"]] == ids[::-1]  # newest first
    check_page_ends_exactly(page)


def test_two_senders_of_one_delivery_record_one_outcome_and_the_second_is_told_so(
        shop: Shop, services, receiver: Receiver) -> None:
    endpoint_id, _ = add_endpoint(shop.tenant, receiver.url())
    endpoint = Endpoints(shop.tenant).get(endpoint_id)
    deliveries = Deliveries(shop.tenant)
    item = deliveries.start(endpoint, {"id": new_id(), "type": "PointsEarned", "memberId": "m-race"},
                            datetime.now(timezone.utc))
    assert item is not None
    stale = deliveries.item(item.event_id, endpoint_id)  # what a second sender read before the first recorded
    assert deliveries.attempt(item, endpoint, loopback_outlet(), datetime.now(timezone.utc)) is not None
    assert deliveries.attempt(stale, endpoint, loopback_outlet(), datetime.now(timezone.utc)) is None
    [recorded] = deliveries.of_event(item.event_id)
    assert (recorded.status, recorded.attempts) == (DeliveryStatus.DELIVERED, 1)


def test_concurrent_first_publications_of_one_event_agree_on_one_envelope_and_sequence(services) -> None:
    from infra.events_out.publication import published
    from tests.support import all_at_once, new_tenant
    tenant = new_tenant()
    event = Event(tenant, "m-pub", new_id(), "points.earned", datetime.now(timezone.utc), {"points": 5})
    env = env_factory(services.programs)()
    results = all_at_once([lambda: published(event, env) for _ in range(6)])
    assert not [r for r in results if isinstance(r, BaseException)], results
    assert len({json.dumps(r.envelope, sort_keys=True) for r in results}) == 1
    assert {r.envelope["sequence"] for r in results} <= {1, 2, 3, 4, 5, 6}  # counted per attempt, kept once


def new_id() -> str:
    from infra.ids import new_ulid
    return new_ulid()
