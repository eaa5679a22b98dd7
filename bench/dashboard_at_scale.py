"""Dashboard at scale: what `me` costs for members with 10, 300 and 1,000 orders over three years,
against a raw boto3 Query of the same dashboard range, interleaved, and what one earn costs.

    .venv/bin/python -m bench.dashboard_at_scale [--iterations 150] [--members 16] [--jvm-warmup 1500]

One template member per size is built through the real code paths: `OrderBook.record` at each order's
time, the release and expire jobs once a month on a clock moved through three years (program: expiry 12
months after earning), an action credit and a keyed redemption now and then. Each template's partition is
then copied (BatchWriteItem, outbox and index attributes left out: they sit outside the dashboard range)
to many members, so requests spread over many partitions and tokens as real traffic does. `me` goes
through api.lambda_handler.handler, imported as Lambda does, with API Gateway HTTP API v2 events; twice
per round: with each member's own token again (the verified-token cache hits) and with a token never
seen before (ES256 verification in the figure). Printed per size: items and RCU of the dashboard Query
(ReturnConsumedCapacity on a raw Query, consistent like Members.dashboard), `me` latency and its ratio to
the raw Query; then DynamoDB calls and WCU per earn.
"""
from __future__ import annotations

import argparse
import random
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from datetime import datetime, timedelta, timezone
from decimal import Decimal
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
    verdict,
)
from bench.me_latency import import_handler
from bench.points_ledger import CapacityMeter

SIZES = (10, 300, 1000)
YEARS = 3
# The storefront's member screen: points, tier (current with benefits, next, progress) and badges.
ME = """query Me { me { id memberId points { available pending lifetime debt expiringSoon { points at } }
  tier { id current { name rank benefits { type multiplier } } next { name threshold }
         progress { qualifying needed percent periodEndsAt } retainedUntil source }
  badges(first: 10) { nodes { badge { id name } earnedAt progress { current target } } } } }"""
ACTIVITY = """mutation A($m: ID!, $r: String!) { activityRecord(memberId: $m, action: "review_written", reference: $r)
  { points userErrors { code } } }"""
ORDER = """mutation O($input: OrderInput!) { orderRecord(input: $input) { outcome points userErrors { code } } }"""
EXPIRY_MONTHS = 12
TARGET_ITEMS = EXPIRY_MONTHS + 4  # docs/design.md, "Bounded dashboard": profile + at most expiryMonths + 3 lots
TARGET_RCU = 1.0
TARGET_FLAT = 1.3  # `me` for a 1,000-order member against a 10-order one: flat, not linear


def value_bytes(value: dict) -> int:
    """A DynamoDB attribute value's size as AWS counts it for capacity (numbers: about one byte per two
    significant digits, plus one)."""
    (kind, v), = value.items()
    if kind == "S":
        return len(v.encode())
    if kind == "N":
        return (len(v.lstrip("-").replace(".", "").strip("0")) + 1) // 2 + 1
    if kind in ("BOOL", "NULL"):
        return 1
    if kind == "M":
        return 3 + sum(len(k.encode()) + value_bytes(x) + 1 for k, x in v.items())
    if kind == "L":
        return 3 + sum(value_bytes(x) + 1 for x in v)
    return sum(len(str(x).encode()) for x in v)  # B, SS, NS, BS: close enough for these items


def item_bytes(item: dict) -> int:
    return sum(len(name.encode()) + value_bytes(v) for name, v in item.items())


class WriteCost:
    """What one TransactWriteItems writes, priced by AWS's rule: 2 WCU per KB (rounded up) of each item,
    read back after the write, plus 1 WCU per KB for each index entry it writes (GSI1, GSI2). DynamoDB
    Local's own ConsumedCapacity for transactions is not per item, so it is printed only for reference."""

    def __init__(self, client: Any, raw: Any, table: str):
        self.raw, self.table, self.keys = raw, table, []
        self.client = client
        client.meta.events.register("before-parameter-build.dynamodb.TransactWriteItems", self._sent,
                                    unique_id="write-cost")

    def _sent(self, params: dict, **_: Any) -> None:
        for part in params.get("TransactItems", []):
            (op, body), = part.items()
            key = body.get("Key") or {k: body["Item"][k] for k in ("PK", "SK")}
            self.keys.append((op, key))

    def priced(self) -> tuple[int, int, int]:
        """(items, table WCU, index WCU) of what was sent since the last call."""
        table_wcu = index_wcu = 0
        for op, key in self.keys:
            item = self.raw.get_item(TableName=self.table, Key=key, ConsistentRead=True).get("Item")
            units = -(-item_bytes(item) // 1024) if item else 1  # a deleted item: at least 1 KB
            table_wcu += 2 * units  # a ConditionCheck is priced as a write of its item too
            if item and op != "ConditionCheck":
                index_wcu += units * sum(1 for gsi in ("GSI1PK", "GSI2PK") if gsi in item)
        items, self.keys = len(self.keys), []
        return items, table_wcu, index_wcu

    def close(self) -> None:
        self.client.meta.events.unregister("before-parameter-build.dynamodb.TransactWriteItems",
                                           unique_id="write-cost")


def months_ago(now: datetime, months: int) -> datetime:
    from domain.points.lots import add_months

    return add_months(now, -months)


def build_templates(now: datetime, programs: Any, sizes: tuple[int, ...]) -> dict[int, str]:
    """One member per size, their orders spread evenly over three years, jobs run monthly."""
    from domain.points.orders import Order, OrderLine
    from infra.points.adjustments import ActionCredits
    from infra.points.jobs import PointsJobs
    from infra.points.orders import OrderBook
    from infra.points.rewards import RewardDesk

    start = months_ago(now, 12 * YEARS)
    members = {size: seed_member(TENANT, f"tpl-{size}-{uuid.uuid4().hex[:6]}") for size in sizes}
    span = (now - timedelta(days=1) - start).total_seconds()
    events: list[tuple[datetime, int, int]] = sorted(
        (start + timedelta(seconds=span * (k + 0.5) / size), size, k) for size in sizes for k in range(size))
    book, jobs = OrderBook(TENANT, programs), PointsJobs(TENANT, programs)
    credits, desk = ActionCredits(TENANT, programs, book), RewardDesk(TENANT, programs)
    month_end = months_ago(now, 12 * YEARS - 1)

    def monthly(at: datetime) -> None:
        for job in (jobs.release_due, jobs.expire_due, jobs.remind_expiring):
            report = job(at)
            assert report.ok and not report.failures, report

    for at, size, k in events:
        while at >= month_end:
            monthly(month_end)
            month_end = months_ago(month_end, -1)
        member = members[size]
        order = Order(id=f"{member}-{k}", currency="USD", ordered_at=at, member_id=member, subtotal=Decimal(80),
                      total=Decimal(88), lines=(OrderLine("1", 1, Decimal(50), "TEE", category="apparel"),
                                                OrderLine("2", 1, Decimal(30), "CAP", category="apparel")))
        assert book.record(order, at).points == 80
        if k % 10 == 9:  # now and then a review
            credits.record(member, "review_written", f"review-{k}", at)
    monthly(now)
    for size, member in members.items():  # today: a keyed redemption, as a member app sends them
        desk.redeem(member, "tote", now, idempotency_key=f"redeem-{member}")
    return members


def clone(endpoint: str, table: str, template: str, copies: int) -> list[str]:
    """Copy a template member's partition to `copies` new members (BatchWriteItem, several threads)."""
    from infra import keys

    raw = raw_client(endpoint)
    pk = keys.member_pk(TENANT, template)
    items: list[dict] = []
    start = None
    while True:
        page = raw.query(TableName=table, KeyConditionExpression="PK = :pk",
                         ExpressionAttributeValues={":pk": {"S": pk}},
                         **({"ExclusiveStartKey": start} if start else {}))
        items += page["Items"]
        start = page.get("LastEvaluatedKey")
        if not start:
            break
    items = [i for i in items if not i["SK"]["S"].startswith(keys.OUTBOX_PREFIX)]
    members = [f"m-{uuid.uuid4().hex[:10]}" for _ in range(copies)]
    requests: list[dict] = []
    for member in members:
        for item in items:
            copy = {k: v for k, v in item.items() if not k.startswith(("GSI1", "GSI2"))}
            copy["PK"] = {"S": keys.member_pk(TENANT, member)}
            if "memberId" in copy:
                copy["memberId"] = {"S": member}
            requests.append({"PutRequest": {"Item": copy}})

    def write(batch: list[dict]) -> None:
        client = raw_client(endpoint)
        todo = {table: batch}
        while todo:
            todo = client.batch_write_item(RequestItems=todo).get("UnprocessedItems") or {}

    with ThreadPoolExecutor(8) as pool:
        list(pool.map(write, [requests[i:i + 25] for i in range(0, len(requests), 25)]))
    return [template, *members]


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--iterations", type=int, default=150, help="interleaved rounds (each runs every path once)")
    parser.add_argument("--warmup", type=int, default=30)
    parser.add_argument("--members", type=int, default=16, help="members per size (of the smallest size: 4x as many)")
    parser.add_argument("--jvm-warmup", type=int, default=1500, help="requests to warm DynamoDB Local's JIT")
    parser.add_argument("--sizes", default=",".join(map(str, SIZES)), help="orders per member, comma-separated")
    args = parser.parse_args(argv)
    n = args.iterations
    sizes = tuple(sorted(int(x) for x in args.sizes.split(",")))
    started = time.monotonic()

    with dynamodb_local() as local:
        table = unique_table_name("bench-dash")
        idp = make_idp()
        lh = import_handler(lambda_env(local.endpoint, table, idp))
        services = lh.services
        create_table(services.dynamodb, table)

        from domain.points.program import DEFAULT_PROGRAM, ActionRule, ExpiryMode
        from domain.points.rewards import Reward, RewardKind
        from infra import keys
        from infra.points.program_store import ProgramStore

        now = datetime.now(timezone.utc)
        programs = ProgramStore(TENANT, services.programs)
        build_at = months_ago(now, 12 * YEARS + 1)
        from domain.tiers.ladder import Benefit, BenefitType, Ladder, LadderSchedule, Tier
        # A three-tier ladder (its benefits without a points multiplier, so an earn reads nothing first).
        ladder = Ladder((Tier("bronze", "Bronze", 1, Decimal(0)),
                         Tier("silver", "Silver", 2, Decimal(2000), benefits=(Benefit(BenefitType.FREE_SHIPPING),)),
                         Tier("gold", "Gold", 3, Decimal(6000), benefits=(Benefit(BenefitType.EARLY_ACCESS, hours=24),))))
        program = replace(DEFAULT_PROGRAM.with_action(ActionRule("review_written", 10)),
                          expiry_mode=ExpiryMode.AFTER_EARNING, expiry_months=EXPIRY_MONTHS,
                          tiers=LadderSchedule(current=ladder))
        programs.save_program(program, "bench", build_at)
        programs.save_reward(Reward("tote", "Tote bag", RewardKind.FREE_PRODUCT, 100, product_sku="TOTE"), "bench",
                             build_at)
        templates = build_templates(now, programs, sizes)
        built = time.monotonic() - started
        pools = {size: clone(local.endpoint, table, templates[size], args.members * (4 if size == sizes[0] else 1) - 1)
                 for size in sizes}
        cloned = time.monotonic() - started - built

        raw = raw_client(local.endpoint)

        def query_args(member: str, **extra: Any) -> dict:
            return dict(TableName=table, KeyConditionExpression="PK = :pk AND SK BETWEEN :from AND :to",
                        ExpressionAttributeValues={":pk": {"S": keys.member_pk(TENANT, member)},
                                                   ":from": {"S": keys.DASHBOARD_FROM},
                                                   ":to": {"S": keys.DASHBOARD_TO}},
                        ConsistentRead=True, **extra)  # Members.dashboard reads consistently too

        def dashboard_cost(member: str) -> tuple[int, float, int, int]:
            """Items, RCU and pages of the dashboard Query, as DynamoDB reports them, and its bytes."""
            count, rcu, pages, size, start = 0, 0.0, 0, 0, None
            while True:
                page = raw.query(**query_args(member, ReturnConsumedCapacity="TOTAL",
                                              **({"ExclusiveStartKey": start} if start else {})))
                count, rcu, pages = count + page["Count"], rcu + page["ConsumedCapacity"]["CapacityUnits"], pages + 1
                size += sum(item_bytes(i) for i in page["Items"])
                start = page.get("LastEvaluatedKey")
                if not start:
                    return count, rcu, pages, size

        costs = {size: [dashboard_cost(m) for m in pool] for size, pool in pools.items()}

        # -- paths: per size, `me` with a known token, `me` with a fresh token, the raw Query -------------
        body = graphql_body(ME)
        tokens = {m: idp.member_token(m) for pool in pools.values() for m in pool}
        rng = random.Random(7)
        order_of = {size: [rng.choice(pool) for _ in range(4 * (n + args.warmup) + args.jvm_warmup)]
                    for size, pool in pools.items()}
        events: dict[str, list[tuple[str, tuple[dict, LambdaContext]]]] = {}
        queries: dict[str, list[str]] = {}
        responses: list[tuple[str, dict]] = []

        def event_for(token: str) -> tuple[dict, LambdaContext]:
            rid = f"{uuid.uuid4().hex[:14]}="
            return http_api_event(body, token=token, request_id=rid), LambdaContext(rid)

        def prepare(count: int) -> None:
            """Events built outside the timed region: API Gateway sends a new one every time."""
            for size in sizes:
                for _ in range(count):
                    member = order_of[size].pop()
                    events.setdefault(f"me {size} cached", []).append((member, event_for(tokens[member])))
                    member = order_of[size].pop()
                    token = idp.token(member, jti=uuid.uuid4().hex)  # never seen: verified with ES256
                    events.setdefault(f"me {size} fresh", []).append((member, event_for(token)))
                    queries.setdefault(f"query {size}", []).append(order_of[size].pop())

        def via_handler(path: str) -> Callable[[], None]:
            def run() -> None:
                member, (event, context) = events[path].pop()
                responses.append((member, lh.handler(event, context)))
            return run

        def raw_query(path: str) -> Callable[[], None]:
            def run() -> None:
                raw.query(**query_args(queries[path].pop()))
            return run

        paths: dict[str, Callable[[], None]] = {}
        for size in sizes:
            paths[f"me {size} cached"] = via_handler(f"me {size} cached")
            paths[f"me {size} fresh"] = via_handler(f"me {size} fresh")
            paths[f"query {size}"] = raw_query(f"query {size}")
        for pool in pools.values():  # every standing token verified once: later requests hit the cache
            for m in pool:
                services.verifier.verify(tokens[m])
        rounds = max(1, args.jvm_warmup // len(paths))  # DynamoDB Local is a JVM: its JIT needs requests first
        prepare(rounds)
        for _ in range(rounds):
            for run in paths.values():
                run()
        prepare(args.warmup + n)
        times = interleave(paths, n, warmup=args.warmup)
        for member, r in responses:  # every answer checked, after timing
            assert r["statusCode"] == 200, r
            me = response_json(r)["data"]["me"]
            assert me["memberId"] == member and me["points"]["lifetime"] > 0, me

        # -- earn: calls and capacity of one orderRecord and one activityRecord through the handler -------
        earner = templates[sizes[-1]]  # built through the API's own paths, index attributes and all
        newcomer = seed_member(TENANT)  # no lot yet: the first credit creates the bucket, the second adds to it
        counter = DynamoCallCounter(services.dynamodb)
        capacity = CapacityMeter(services.dynamodb)
        cost = WriteCost(services.dynamodb, raw, table)
        service_token = idp.service_token()

        def earn(query: str, variables: dict) -> tuple[list[str], float, tuple[int, int, int]]:
            counter.reset()
            capacity.wcu = 0.0
            rid = f"{uuid.uuid4().hex[:14]}="
            r = lh.handler(http_api_event(graphql_body(query, variables), token=service_token, request_id=rid),
                           LambdaContext(rid))
            data = response_json(r)["data"]
            assert all(not v["userErrors"] for v in data.values()), data
            calls, local_wcu = list(counter.calls), capacity.wcu
            return calls, local_wcu, cost.priced()

        order_input = {"orderId": uuid.uuid4().hex[:19], "currency": "USD", "orderedAt": now.isoformat(),
                       "memberId": earner, "subtotal": "80", "total": "88",
                       "lines": [{"id": "1", "quantity": 1, "price": "80", "sku": "TEE", "category": "apparel"}]}
        earns = {
            "orderRecord (pending points)": earn(ORDER, {"input": order_input}),
            "activityRecord, a new bucket": earn(ACTIVITY, {"m": newcomer, "r": uuid.uuid4().hex}),
            "activityRecord, adding to a bucket": earn(ACTIVITY, {"m": newcomer, "r": uuid.uuid4().hex}),
            f"activityRecord, {sizes[-1]:,}-order member": earn(ACTIVITY, {"m": earner, "r": uuid.uuid4().hex}),
            # 2,400 points: the newcomer crosses Silver's 2,000 in this very transaction.
            "orderRecord crossing a tier threshold": earn(ORDER, {"input": {
                **order_input, "orderId": uuid.uuid4().hex[:19], "memberId": newcomer, "subtotal": "2400",
                "total": "2500", "lines": [{"id": "1", "quantity": 1, "price": "2400", "sku": "BAG"}]}}),
        }
        upgraded = lh.handler(http_api_event(graphql_body(ME), token=idp.member_token(newcomer)),
                              LambdaContext("after-upgrade"))
        tier_after = response_json(upgraded)["data"]["me"]["tier"]["current"]["name"]
        counter.close()
        cost.close()

        # -- report ---------------------------------------------------------------------------------------
        print(f"dashboard at scale ({n} interleaved rounds after {args.jvm_warmup} + {args.warmup} warm-up, "
              f"DynamoDB Local; build {built:.0f} s, copies {cloned:.0f} s; {machine()})")
        print(f"  members per size: {', '.join(f'{len(pools[s])} with {s} orders' for s in sizes)}; "
              f"expiry {EXPIRY_MONTHS} months "
              f"after earning; orders over {YEARS} years")
        print("  orders  dashboard items  bytes  RCU  pages  me cached (median, p99)   ratio   me fresh token "
              "(median, p99)   ratio   raw Query median")
        items_of: dict[int, int] = {}
        for size in sizes:
            counts = [c for c, _, _, _ in costs[size]]
            rcu = max(r for _, r, _, _ in costs[size])
            pages = max(p for _, _, p, _ in costs[size])
            nbytes = max(b for _, _, _, b in costs[size])
            items_of[size] = max(counts)
            cached, fresh_t, q = times[f"me {size} cached"], times[f"me {size} fresh"], times[f"query {size}"]
            print(f"  {size:>6}  {max(counts):>15}  {nbytes:>5}  {rcu:>4.1f} {pages:>5}  "
                  f"{median(cached) * 1000:7.2f} ms {p99(cached) * 1000:7.2f} ms  {median(cached) / median(q):5.2f}x  "
                  f"{median(fresh_t) * 1000:8.2f} ms {p99(fresh_t) * 1000:8.2f} ms      "
                  f"{median(fresh_t) / median(q):5.2f}x  {median(q) * 1000:7.2f} ms")
        flat = max(median(times[f"me {sizes[-1]} {k}"]) / median(times[f"me {sizes[0]} {k}"])
                   for k in ("cached", "fresh"))
        print(f"  me at {sizes[-1]:,} orders / me at {sizes[0]} orders: cached token "
              f"{median(times[f'me {sizes[-1]} cached']) / median(times[f'me {sizes[0]} cached']):5.2f}x, fresh token "
              f"{median(times[f'me {sizes[-1]} fresh']) / median(times[f'me {sizes[0]} fresh']):5.2f}x   "
              f"{verdict(flat, TARGET_FLAT)}")
        most_items, most_rcu = max(items_of.values()), max(r for c in costs.values() for _, r, _, _ in c)
        print(f"  dashboard items at most {most_items}   {verdict(most_items, TARGET_ITEMS)}; "
              f"RCU at most {most_rcu:.1f}   {verdict(most_rcu, TARGET_RCU)}")
        for label, (calls, local_wcu, (items, table_wcu, index_wcu)) in earns.items():
            print(f"  earn: {label:<34} DynamoDB calls {len(calls)} {calls}; {items} items, WCU by AWS's rule "
                  f"{table_wcu} + {index_wcu} on indexes (DynamoDB Local says {local_wcu:.1f})")
        print(f"  tier after the crossing order: {tier_after} (same `me` read)   "
              f"{'ok' if tier_after == 'Silver' else 'MISSED'}")
        print(f"  total {time.monotonic() - started:.0f} s")


if __name__ == "__main__":
    main()
