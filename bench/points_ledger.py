"""Points ledger benchmark: orderRecord and rewardRedeem through the API against one raw
TransactWriteItems of the same items, DynamoDB calls per earn and per redeem, WCU per earn.

    .venv/bin/python -m bench.points_ledger [--iterations 200]
"""
from __future__ import annotations

import argparse
import json
import uuid
from datetime import datetime, timezone

from api.http import Api
from api.messages import Request
from api.runtime import build_services
from bench.common import (DynamoCallCounter, create_table, dynamodb_local, interleave, machine, make_idp,
                          make_settings, median, p99, raw_client, seed_member, unique_table_name, verdict)
from domain.points.program import DEFAULT_PROGRAM
from domain.points.rewards import Reward, RewardKind
from infra.points.adjustments import Adjustments
from infra.points.program_store import ProgramStore

TENANT = "bench"
ORDER = """mutation O($input: OrderInput!) { orderRecord(input: $input) { outcome points userErrors { code } } }"""
REDEEM = """mutation R($id: ID!) { rewardRedeem(rewardId: $id) { redemption { code } userErrors { code } } }"""


class CapacityMeter:
    """Write capacity of the transactions a client sends (asks DynamoDB to report it)."""

    def __init__(self, client):
        self.wcu = 0.0
        client.meta.events.register("before-parameter-build.dynamodb.TransactWriteItems", self._ask)
        client.meta.events.register("after-call.dynamodb.TransactWriteItems", self._read)

    @staticmethod
    def _ask(params, **_):
        params.setdefault("ReturnConsumedCapacity", "TOTAL")

    def _read(self, parsed, **_):
        self.wcu += sum(c.get("CapacityUnits", 0) for c in parsed.get("ConsumedCapacity", []))


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--iterations", type=int, default=200)
    args = parser.parse_args(argv)
    n = args.iterations

    with dynamodb_local() as local:
        table = unique_table_name()
        idp = make_idp()
        services = build_services(make_settings(local.endpoint, table, idp, TENANT, program_cache_seconds=3600))
        create_table(services.dynamodb, table)
        api = Api(services)
        now = datetime.now(timezone.utc)
        member_id = seed_member(TENANT, "bench-member")
        store = ProgramStore(TENANT, services.programs)
        store.save_program(DEFAULT_PROGRAM, "bench", now)
        store.save_reward(Reward("ten", "Ten points", RewardKind.CUSTOM, 10), "bench", now)
        service_auth = {"authorization": f"Bearer {idp.service_token()}", "content-type": "application/json"}
        member_auth = {"authorization": f"Bearer {idp.member_token(member_id)}", "content-type": "application/json"}
        raw = raw_client(local.endpoint)

        def order_body(order_id: str) -> bytes:
            return json.dumps({"query": ORDER, "variables": {"input": {
                "orderId": order_id, "currency": "USD", "orderedAt": now.isoformat(), "memberId": member_id,
                "subtotal": "100", "total": "108",
                "lines": [{"id": "1", "quantity": 1, "price": "60", "sku": "A", "category": "c"},
                          {"id": "2", "quantity": 2, "price": "20", "sku": "B", "category": "c"}]}}}).encode()

        def api_order() -> None:
            resp = api.handle(Request("POST", "/graphql", service_auth, order_body(str(uuid.uuid4().int)[:19])))
            assert b'"CREDITED"' in resp.body, resp.body

        def raw_transaction() -> None:
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
            raw.transact_write_items(TransactItems=items)

        redeem_body = json.dumps({"query": REDEEM, "variables": {"id": "ten"}}).encode()

        def api_redeem() -> None:
            resp = api.handle(Request("POST", "/graphql", member_auth, redeem_body))
            assert b'"code":"KZ-' in resp.body, resp.body

        Adjustments(TENANT, store).adjust(member_id, 10 * (n + 100), "bench setup", "bench", now)
        # Interleaved, rotating order each round, so machine noise hits every path alike.
        times = interleave({"order": api_order, "raw": raw_transaction, "redeem": api_redeem}, n, warmup=20)

        counter = DynamoCallCounter(services.dynamodb)
        capacity = CapacityMeter(services.dynamodb)
        api_order()
        earn_calls, earn_wcu = list(counter.calls), capacity.wcu
        counter.reset()
        capacity.wcu = 0.0
        api_redeem()
        redeem_calls, redeem_wcu = list(counter.calls), capacity.wcu

        order, base, redeem = times["order"], times["raw"], times["redeem"]
        print(f"points ledger benchmark ({n} interleaved iterations after 20 warm-up, DynamoDB Local; {machine()})")
        print(f"  orderRecord via API     median {median(order) * 1000:7.2f} ms   p99 {p99(order) * 1000:7.2f} ms")
        print(f"  rewardRedeem via API    median {median(redeem) * 1000:7.2f} ms   p99 {p99(redeem) * 1000:7.2f} ms")
        print(f"  raw TransactWriteItems  median {median(base) * 1000:7.2f} ms   p99 {p99(base) * 1000:7.2f} ms"
              "   (the five writes of orderRecord, by hand)")
        ratio = median(order) / median(base)
        print(f"  ratio orderRecord/raw   median {ratio:5.2f}x   p99 {p99(order) / p99(base):5.2f}x   {verdict(ratio, 1.3)}")
        print(f"  ratio rewardRedeem/raw  median {median(redeem) / median(base):5.2f}x")
        print(f"  DynamoDB calls per earn   {len(earn_calls)} {earn_calls}   {verdict(len(earn_calls), 1)}")
        print(f"  DynamoDB calls per redeem {len(redeem_calls)} {redeem_calls}   {verdict(len(redeem_calls), 1)}")
        print(f"  consumed WCU per earn {earn_wcu:.1f}, per redeem {redeem_wcu:.1f} (transactional writes: 2 WCU per KB)")


if __name__ == "__main__":
    main()
