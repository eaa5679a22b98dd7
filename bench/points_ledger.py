"""Points ledger benchmark: orderRecord and rewardRedeem through the API against one raw
TransactWriteItems of the same items, DynamoDB calls per earn and per redeem, WCU per earn.

    .venv/bin/python -m bench.points_ledger [--iterations 200]
"""
from __future__ import annotations

import argparse
import json
import re
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

        # The baseline sends, word for word, the TransactWriteItems request orderRecord sent for one order
        # (same items, attributes, conditions, ReturnValuesOnConditionCheckFailure and ReturnConsumedCapacity),
        # with a fresh order id and fresh entry ids each time so every write is new.
        sent: list[dict] = []

        def capture(params, **_):
            sent.append(json.loads(json.dumps(params)))

        services.dynamodb.meta.events.register("before-parameter-build.dynamodb.TransactWriteItems", capture)
        template_order = str(uuid.uuid4().int)[:19]
        resp = api.handle(Request("POST", "/graphql", service_auth, order_body(template_order)))
        assert b'"CREDITED"' in resp.body and len(sent) == 1, resp.body
        services.dynamodb.meta.events.unregister("before-parameter-build.dynamodb.TransactWriteItems", capture)
        template = json.dumps(sent[0])
        entry_ids = sorted(set(re.findall(r"#([0-9A-HJKMNP-TV-Z]{26})\b", template)))
        assert entry_ids, "orderRecord's items carry entry ids"

        def raw_transaction() -> None:
            """The same items orderRecord writes, as one TransactWriteItems by hand."""
            text = template.replace(template_order, str(uuid.uuid4().int)[:19])
            for old in entry_ids:
                text = text.replace(old, uuid.uuid4().hex[:26].upper())
            params = json.loads(text)
            # orderRecord sends one ClientRequestToken per commit; a new write needs its own (a reused
            # token with other items is refused as IdempotentParameterMismatch).
            if "ClientRequestToken" in params:
                params["ClientRequestToken"] = uuid.uuid4().hex
            raw.transact_write_items(**params)

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
              "   (the request orderRecord sends, replayed by hand)")
        ratio = median(order) / median(base)
        print(f"  ratio orderRecord/raw   median {ratio:5.2f}x   p99 {p99(order) / p99(base):5.2f}x   {verdict(ratio, 1.3)}")
        print(f"  ratio rewardRedeem/raw  median {median(redeem) / median(base):5.2f}x")
        print(f"  DynamoDB calls per earn   {len(earn_calls)} {earn_calls}   {verdict(len(earn_calls), 1)}")
        print(f"  DynamoDB calls per redeem {len(redeem_calls)} {redeem_calls}   {verdict(len(redeem_calls), 1)}")
        print(f"  consumed WCU per earn {earn_wcu:.1f}, per redeem {redeem_wcu:.1f} (transactional writes: 2 WCU per KB)")


if __name__ == "__main__":
    main()
