"""Points ledger benchmark: orderRecord and rewardRedeem through the API against one raw
TransactWriteItems of the same items, DynamoDB calls per earn and per redeem, WCU per earn.

    .venv/bin/python -m bench.points_ledger [--iterations 200]
"""
from __future__ import annotations

import argparse
import json
import statistics
import time
import uuid
from datetime import datetime, timezone
from decimal import Decimal

import boto3

from api.dev_idp import DevIdentityProvider
from api.http import Api
from api.messages import Request
from api.runtime import build_services
from api.settings import Settings
from domain import members as member_rules
from domain.points.program import DEFAULT_PROGRAM
from domain.points.rewards import Reward, RewardKind
from infra import dynamodb_local
from infra.members import Members
from infra.points.program_store import ProgramStore
from infra.table import create_table

TENANT = "bench"
ORDER = """mutation O($input: OrderInput!) { orderRecord(input: $input) { outcome points userErrors { code } } }"""
REDEEM = """mutation R($id: ID!) { rewardRedeem(rewardId: $id) { redemption { code } userErrors { code } } }"""


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(q * (len(ordered) - 1))))]


class CallCounter:
    """Counts DynamoDB API calls and the capacity they consumed, from botocore's events."""

    def __init__(self, client):
        self.calls: list[str] = []
        self.wcu = 0.0
        self.wire: list[float] = []
        self._sent = 0.0
        client.meta.events.register("before-send.dynamodb.*", self._send)
        client.meta.events.register("after-call.dynamodb.*", self._received)
        client.meta.events.register("before-call.dynamodb.*", self._before)
        client.meta.events.register("before-parameter-build.dynamodb.TransactWriteItems", self._ask_capacity)
        client.meta.events.register("after-call.dynamodb.TransactWriteItems", self._capacity)

    def _send(self, **_):
        self._sent = time.perf_counter()

    def _received(self, **_):
        self.wire.append(time.perf_counter() - self._sent)

    def _before(self, model, **_):
        self.calls.append(model.name)

    @staticmethod
    def _ask_capacity(params, **_):
        params.setdefault("ReturnConsumedCapacity", "TOTAL")

    def _capacity(self, parsed, **_):
        self.wcu += sum(c.get("CapacityUnits", 0) for c in parsed.get("ConsumedCapacity", []))

    def reset(self):
        self.calls, self.wcu = [], 0.0


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--iterations", type=int, default=200)
    args = parser.parse_args(argv)
    n = args.iterations

    local = dynamodb_local.start()
    try:
        table = f"bench-{uuid.uuid4().hex[:8]}"
        idp = DevIdentityProvider("https://idp.bench/", audience="kizuna")
        settings = Settings(table_name=table, dynamodb_endpoint=local.endpoint, issuers=(idp.issuer_settings(TENANT),),
                            program_cache_seconds=3600)
        services = build_services(settings)
        create_table(services.dynamodb, table)
        api = Api(services)
        now = datetime.now(timezone.utc)
        member_id = "bench-member"
        Members(TENANT).enroll(member_id, member_rules.Enrollment("Bench", "bench@example.com", None, False),
                               now.isoformat(), int(now.timestamp()))
        store = ProgramStore(TENANT, services.programs)
        store.save_program(DEFAULT_PROGRAM, "bench", now)
        store.save_reward(Reward("ten", "Ten points", RewardKind.CUSTOM, 10), "bench", now)
        service_auth = {"authorization": f"Bearer {idp.service_token()}", "content-type": "application/json"}
        member_auth = {"authorization": f"Bearer {idp.member_token(member_id)}", "content-type": "application/json"}
        raw = boto3.client("dynamodb", endpoint_url=local.endpoint, region_name="us-east-1",
                           aws_access_key_id="local", aws_secret_access_key="local")
        counter = CallCounter(services.dynamodb)

        def order_body(order_id: str) -> bytes:
            return json.dumps({"query": ORDER, "variables": {"input": {
                "orderId": order_id, "currency": "USD", "orderedAt": now.isoformat(), "memberId": member_id,
                "subtotal": "100", "total": "108",
                "lines": [{"id": "1", "quantity": 1, "price": "60", "sku": "A", "category": "c"},
                          {"id": "2", "quantity": 2, "price": "20", "sku": "B", "category": "c"}]}}}).encode()

        def api_order() -> float:
            body = order_body(str(uuid.uuid4().int)[:19])
            t = time.perf_counter()
            resp = api.handle(Request("POST", "/graphql", service_auth, body))
            elapsed = time.perf_counter() - t
            assert b'"CREDITED"' in resp.body, resp.body
            return elapsed

        def raw_transaction() -> float:
            """The same five writes orderRecord makes, as one hand-written TransactWriteItems."""
            oid = str(uuid.uuid4().int)[:19]
            pk = f"T#{TENANT}#M#{member_id}"
            ts = now.isoformat()
            lines = json.dumps([{"id": "1", "paid": "60", "points": 60}, {"id": "2", "paid": "40", "points": 40}])
            items = [
                {"Put": {"TableName": table, "ConditionExpression": "attribute_not_exists(PK)", "Item": {
                    "PK": {"S": pk}, "SK": {"S": f"SRC#order#{oid}"}, "kind": {"S": "order"}, "orderId": {"S": oid},
                    "memberId": {"S": member_id}, "orderedAt": {"S": ts}, "currency": {"S": "USD"},
                    "lines": {"S": lines}, "points": {"N": "100"}, "pendingPoints": {"N": "100"},
                    "status": {"S": "PENDING"}, "releaseAt": {"S": ts}, "GSI2PK": {"S": f"T#{TENANT}#DUE#RELEASE"},
                    "GSI2SK": {"S": f"{ts}#{member_id}#{oid}"}, "version": {"N": "1"}}}},
                {"Update": {"TableName": table, "Key": {"PK": {"S": f"T#{TENANT}#ORDER#{oid}"}, "SK": {"S": "OWNER"}},
                            "UpdateExpression": "SET memberId = :m", "ConditionExpression": "attribute_not_exists(memberId)",
                            "ExpressionAttributeValues": {":m": {"S": member_id}}}},
                {"Update": {"TableName": table, "Key": {"PK": {"S": pk}, "SK": {"S": "PROFILE"}},
                            "UpdateExpression": "ADD pending :p, lifetime :p, version :one SET lastActivityAt = :t",
                            "ConditionExpression": "attribute_exists(PK)",
                            "ExpressionAttributeValues": {":p": {"N": "100"}, ":one": {"N": "1"}, ":t": {"S": ts}}}},
                {"Put": {"TableName": table, "ConditionExpression": "attribute_not_exists(PK)", "Item": {
                    "PK": {"S": pk}, "SK": {"S": f"TX#{uuid.uuid4().hex}"}, "kind": {"S": "ledger"},
                    "memberId": {"S": member_id}, "type": {"S": "EARN"}, "points": {"N": "100"},
                    "status": {"S": "PENDING"}, "reason": {"S": "Order"}, "source": {"S": f"order:{oid}"},
                    "orderId": {"S": oid}, "createdAt": {"S": ts}}}},
                {"Put": {"TableName": table, "Item": {
                    "PK": {"S": pk}, "SK": {"S": f"~OUT#{uuid.uuid4().hex}"}, "kind": {"S": "event"},
                    "eventType": {"S": "points.earned"}, "tenant": {"S": TENANT}, "occurredAt": {"S": ts},
                    "detail": {"S": "{}"}, "expiresAt": {"N": str(int(now.timestamp()) + 604800)}}}},
            ]
            t = time.perf_counter()
            raw.transact_write_items(TransactItems=items)
            return time.perf_counter() - t

        for _ in range(20):  # warm both paths: parser/validation caches, connections, JIT-free Python
            api_order()
            raw_transaction()
        ours, base = [], []
        for _ in range(n):  # interleaved, so machine noise hits both alike
            ours.append(api_order())
            base.append(raw_transaction())

        counter.reset()
        api_order()
        earn_calls, earn_wcu = list(counter.calls), counter.wcu

        # Redeem: give enough points, then count one redemption.
        from infra.points.adjustments import Adjustments

        Adjustments(TENANT, store).adjust(member_id, 10 * (n + 50), "bench setup", "bench", now)
        redeem_body = json.dumps({"query": REDEEM, "variables": {"id": "ten"}}).encode()
        for _ in range(10):
            api.handle(Request("POST", "/graphql", member_auth, redeem_body))
        redeem_times = []
        for _ in range(n):
            t = time.perf_counter()
            resp = api.handle(Request("POST", "/graphql", member_auth, redeem_body))
            redeem_times.append(time.perf_counter() - t)
            assert b'"code":"KZ-' in resp.body, resp.body
        counter.reset()
        api.handle(Request("POST", "/graphql", member_auth, redeem_body))
        redeem_calls, redeem_wcu = list(counter.calls), counter.wcu

        med_o, med_b = statistics.median(ours), statistics.median(base)
        print(f"  (DynamoDB round trip inside our calls: median {statistics.median(counter.wire) * 1000:.2f} ms)")
        p99_o, p99_b = pct(ours, 0.99), pct(base, 0.99)
        print(f"points ledger benchmark ({n} interleaved iterations, DynamoDB Local)")
        print(f"  orderRecord via API     median {med_o * 1000:7.2f} ms   p99 {p99_o * 1000:7.2f} ms")
        print(f"  raw TransactWriteItems  median {med_b * 1000:7.2f} ms   p99 {p99_b * 1000:7.2f} ms")
        print(f"  ratio orderRecord/raw   median {med_o / med_b:5.2f}x    p99 {p99_o / p99_b:5.2f}x   (target <= 1.3)")
        print(f"  rewardRedeem via API    median {statistics.median(redeem_times) * 1000:7.2f} ms   "
              f"ratio to raw transaction {statistics.median(redeem_times) / med_b:5.2f}x")
        print(f"  DynamoDB calls per earn   {len(earn_calls)} {earn_calls}   (target 1)")
        print(f"  DynamoDB calls per redeem {len(redeem_calls)} {redeem_calls}   (target 1)")
        print(f"  consumed WCU per earn   {earn_wcu:.1f}   per redeem {redeem_wcu:.1f}")
    finally:
        local.stop()


if __name__ == "__main__":
    main()
