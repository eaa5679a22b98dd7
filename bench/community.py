"""Community screens and changes through the Lambda handler, each against the raw boto3 call of the same
items, interleaved: the feed's first page and the moderation queue's first page (raw: one Query of the
same partition, same Limit), `vipEvents` for a member (raw: one BatchGetItem of the same keys) and
`eventRegister` (raw: one TransactWriteItems of the same items); DynamoDB calls of each counted.

    .venv/bin/python -m bench.community [--posts 300] [--iterations 150] [--warmup 20] [--jvm-warmup 800]

Posts are submitted and approved through `PostDesk`, events saved and registered through the VIP event
code, as the API does; the handler is api.lambda_handler.handler with HTTP API v2 events and dev-IdP tokens.
"""
from __future__ import annotations

import argparse
import uuid
from dataclasses import replace
from datetime import datetime, timedelta, timezone
from typing import Any, Callable

from bench.common import (
    TENANT,
    DynamoCallCounter,
    LambdaContext,
    create_table,
    dynamodb_local,
    graphql_body,
    http_api_event,
    interleave,
    lambda_env,
    machine,
    make_idp,
    median,
    p99,
    raw_client,
    response_json,
    seed_member,
    unique_table_name,
)
from bench.me_latency import import_handler

FEED = "query Feed { communityFeed(first: 20) { edges { node { id url caption platform author approvedAt } } } }"
QUEUE = ("query Queue { moderationQueue(first: 20) { edges { node { postId memberId url caption platform } } "
         "pageInfo { hasNextPage } } }")
TARGET_CALLS = 1


def seed_posts(services: Any, n: int, now: datetime) -> None:
    """n members with one post each: every other one approved (the feed), the rest pending (the queue)."""
    from domain.posts.rules import check_submission
    from domain.posts.settings import PostSettings
    from domain.posts.urls import Platform
    from infra.points.program_store import ProgramStore
    from infra.posts.desk import Moderator, PostDesk
    from infra.posts.store import Posts

    store = ProgramStore(TENANT, services.programs)
    store.save_program(replace(store.program(), posts=PostSettings(enabled=True, points_per_post=50)), "bench", now)
    desk = PostDesk(TENANT, store, Posts(TENANT, store))
    mod = Moderator("staff:bench-mod", subject="bench-mod")
    for i in range(n):
        member = seed_member(member_id=f"m-{uuid.uuid4().hex[:10]}")
        at = now - timedelta(minutes=n - i)
        sub = check_submission(Platform.INSTAGRAM, f"https://www.instagram.com/p/Bench{i:05d}/",
                               f"Unboxing number {i}", ["serum"], None, f"Fan {i}", None)
        post = desk.submit(member, sub, at)
        if i % 2 == 0:
            desk.approve(post.post_id, mod, at + timedelta(seconds=1))


def report(name: str, times: dict[str, list[float]], ours: str, base: str, calls: list[str]) -> None:
    print(f"  {name}: DynamoDB calls {len(calls)} {sorted(set(calls))} "
          f"(target {TARGET_CALLS}: {'MET' if len(calls) <= TARGET_CALLS else 'MISSED'})")
    for label in (ours, base):
        t = times[label]
        print(f"    {label:<44} median {median(t) * 1000:7.2f} ms   p99 {p99(t) * 1000:7.2f} ms")
    print(f"    ratio handler / raw                          median {median(times[ours]) / median(times[base]):5.2f}x")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--posts", type=int, default=300)
    parser.add_argument("--iterations", type=int, default=150)
    parser.add_argument("--warmup", type=int, default=20)
    parser.add_argument("--jvm-warmup", type=int, default=800, help="requests to warm DynamoDB Local's JIT")
    args = parser.parse_args(argv)

    with dynamodb_local() as local:
        table = unique_table_name("bench-community")
        idp = make_idp()
        lh = import_handler(lambda_env(local.endpoint, table, idp))
        services = lh.services
        create_table(services.dynamodb, table)
        now = datetime.now(timezone.utc)
        seed_posts(services, args.posts, now)

        from infra import keys

        raw = raw_client(local.endpoint)
        feed_query = dict(TableName=table, KeyConditionExpression="PK = :pk", ScanIndexForward=False, Limit=21,
                          ExpressionAttributeValues={":pk": {"S": keys.feed_pk(TENANT, "ALL")}})
        queue_query = dict(TableName=table, IndexName="GSI1", KeyConditionExpression="GSI1PK = :pk", Limit=21,
                           ExpressionAttributeValues={":pk": {"S": keys.post_queue_pk(TENANT)}})
        moderator = idp.staff_token("bench-mod", "kizuna-moderators")
        responses: dict[str, list[dict]] = {}

        def handler(name: str, body: bytes, token: str | None) -> Callable[[], None]:
            def run() -> None:
                rid = f"{uuid.uuid4().hex[:14]}="
                responses.setdefault(name, []).append(
                    lh.handler(http_api_event(body, token=token, request_id=rid), LambdaContext(rid)))
            return run

        screens: dict[str, tuple[Callable[[], None], Callable[[], Any]]] = {
            "communityFeed first page (anonymous)": (handler("feed", graphql_body(FEED), None),
                                                     lambda: raw.query(**feed_query)),
            "moderationQueue first page (moderator)": (handler("queue", graphql_body(QUEUE), moderator),
                                                       lambda: raw.query(**queue_query)),
        }
        extra = vip_screens(services, raw, table, idp, handler, now,
                            registrations=args.iterations + args.warmup + args.jvm_warmup // 5 + 5)
        screens.update(extra)

        for i in range(args.jvm_warmup):
            for ours, base in screens.values():
                (base if i % 5 else ours)()
        print(f"community benchmark ({args.iterations} interleaved warm iterations after {args.jvm_warmup} + "
              f"{args.warmup} warm-up, DynamoDB Local, {args.posts} posts; {machine()})")
        counter = DynamoCallCounter(services.dynamodb)
        for name, (ours, base) in screens.items():
            counter.reset()
            ours()
            calls = list(counter.calls)
            times = interleave({f"{name} via handler": ours, "raw boto3": base}, args.iterations, warmup=args.warmup)
            report(name, times, f"{name} via handler", "raw boto3", calls)
        counter.close()
        for name, rs in responses.items():
            for r in rs:
                body = response_json(r)
                assert r["statusCode"] == 200 and not body.get("errors"), (name, body)
        check_answers(responses)


def check_answers(responses: dict[str, list[dict]]) -> None:
    feed = response_json(responses["feed"][-1])["data"]["communityFeed"]["edges"]
    queue = response_json(responses["queue"][-1])["data"]["moderationQueue"]["edges"]
    assert len(feed) == 20 and len(queue) == 20, (len(feed), len(queue))
    events = response_json(responses["vip"][-1])["data"]["vipEvents"]["edges"]
    assert len(events) == EVENTS and all(e["node"]["eligibility"]["eligible"] for e in events), events
    states = {response_json(r)["data"]["eventRegister"]["state"] for r in responses["register"]}
    assert states == {"CONFIRMED"}, states


VIP_LIST = ("query Events { vipEvents(first: 10) { edges { node { eventId title startsAt seatsLeft "
            "eligibility { eligible reason } myRegistration { state } } } } }")
REGISTER = "mutation R($e: ID!) { eventRegister(eventId: $e) { state userErrors { code } } }"
EVENTS = 10


def vip_screens(services: Any, raw: Any, table: str, idp: Any, handler: Callable[..., Callable[[], None]],
                now: datetime, registrations: int) -> dict[str, tuple[Callable[[], None], Callable[[], Any]]]:
    """`vipEvents` for a member (raw: BatchGetItem of the same keys: the page's EVENT items, the profile,
    the no-show stats and the member's registration of each event) and `eventRegister` for a seat (raw:
    TransactWriteItems of the same six items for another member: registration, ticket, seat counter,
    profile and no-show checks, outbox), each register by a member not registered yet."""
    from domain.vip_events.model import VipEvent
    from infra import keys
    from infra.points.program_store import ProgramStore
    from infra.vip_events.catalog import EventCatalog

    store = ProgramStore(TENANT, services.programs)
    catalog = EventCatalog(TENANT, store)
    ids = [f"bench-event-{i}" for i in range(EVENTS)]
    for i, event_id in enumerate(ids):
        catalog.save(VipEvent(event_id=event_id, title=f"Atelier evening {i}", starts_at=now + timedelta(days=7 + i),
                              ends_at=now + timedelta(days=7 + i, hours=2), capacity=1_000_000), "staff:bench", now,
                     existing=None)
    viewer = seed_member(member_id="bench-viewer")
    viewer_token = idp.member_token(viewer)
    mpk = keys.member_pk(TENANT, viewer)
    batch_keys = [{"PK": {"S": keys.vip_event_pk(TENANT, e)}, "SK": {"S": keys.VIP_EVENT_SK}} for e in ids]
    batch_keys += [{"PK": {"S": mpk}, "SK": {"S": keys.PROFILE}}, {"PK": {"S": mpk}, "SK": {"S": keys.VIP_STATS_SK}}]
    batch_keys += [{"PK": {"S": keys.vip_event_pk(TENANT, e)}, "SK": {"S": keys.registration_sk(viewer)}} for e in ids]

    # Tokens signed beforehand: signing is the identity provider's work, not the API's.
    tokens = iter([idp.member_token(seed_member(member_id=f"r-{uuid.uuid4().hex[:10]}")) for _ in range(registrations)])
    register_body = graphql_body(REGISTER, {"e": ids[0]})

    def register() -> None:
        handler("register", register_body, next(tokens))()

    def raw_register() -> None:
        m = f"raw-{uuid.uuid4().hex[:10]}"
        epk, now_iso = keys.vip_event_pk(TENANT, ids[1]), datetime.now(timezone.utc).isoformat()
        raw_mpk = keys.member_pk(TENANT, viewer)
        raw.transact_write_items(TransactItems=[
            {"Put": {"TableName": table, "Item": {
                "PK": {"S": epk}, "SK": {"S": keys.registration_sk(m)}, "kind": {"S": "vip-registration"},
                "eventId": {"S": ids[1]}, "memberId": {"S": m}, "state": {"S": "CONFIRMED"}, "pointsPaid": {"N": "0"},
                "code": {"S": uuid.uuid4().hex}, "registeredAt": {"S": now_iso}, "version": {"N": "1"},
                "GSI1PK": {"S": keys.member_tickets_pk(TENANT, m)}, "GSI1SK": {"S": f"{now_iso}#{ids[1]}"}},
                "ConditionExpression": "attribute_not_exists(PK)"}},
            {"Put": {"TableName": table, "Item": {
                "PK": {"S": keys.ticket_pk(TENANT, uuid.uuid4().hex)}, "SK": {"S": keys.TICKET_SK},
                "kind": {"S": "vip-ticket"}, "eventId": {"S": ids[1]}, "memberId": {"S": m}},
                "ConditionExpression": "attribute_not_exists(PK)"}},
            {"Update": {"TableName": table, "Key": {"PK": {"S": epk}, "SK": {"S": keys.VIP_EVENT_SK}},
                        "UpdateExpression": "ADD taken :one, confirmed :one",
                        "ConditionExpression": "#s = :sched AND taken < #c AND waitlisted = :zero",
                        "ExpressionAttributeNames": {"#s": "status", "#c": "capacity"},
                        "ExpressionAttributeValues": {":one": {"N": "1"}, ":zero": {"N": "0"},
                                                      ":sched": {"S": "SCHEDULED"}}}},
            {"ConditionCheck": {"TableName": table, "Key": {"PK": {"S": raw_mpk}, "SK": {"S": keys.PROFILE}},
                                "ConditionExpression": "attribute_exists(PK)"}},
            {"ConditionCheck": {"TableName": table, "Key": {"PK": {"S": raw_mpk}, "SK": {"S": keys.VIP_STATS_SK}},
                                "ConditionExpression": "attribute_not_exists(blockedUntil)"}},
            {"Put": {"TableName": table, "Item": {
                "PK": {"S": raw_mpk}, "SK": {"S": f"~OUT#{uuid.uuid4().hex}"}, "kind": {"S": "outbox"},
                "eventType": {"S": "vip_event.registered"}, "detail": {"S": "{}"}}}},
        ])

    return {
        "vipEvents first page (member)": (handler("vip", graphql_body(VIP_LIST), viewer_token),
                                          lambda: raw.batch_get_item(RequestItems={table: {"Keys": batch_keys}})),
        "eventRegister, a free seat (member)": (register, raw_register),
    }


if __name__ == "__main__":
    main()
