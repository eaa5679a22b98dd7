"""A partner's look-up, `partnerMemberStatus`, through the Lambda handler and through infra, against the raw
boto3 calls it needs (GetItem of the client claim, the rate window's UpdateItem, GetItem of the link,
BatchGetItem of the profile and the lifecycle standing, PutItem of the record), interleaved; DynamoDB calls per look-up, for a consenting member and
for a stranger (the two must be the same).

    .venv/bin/python -m bench.partner_lookup [--iterations 300] [--warmup 50] [--jvm-warmup 1500]
"""
from __future__ import annotations

import argparse
import time
import uuid
from collections import Counter
from datetime import datetime, timezone
from typing import Callable

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

QUERY = """query S($ref: PartnerMemberRefInput!) { partnerMemberStatus(memberRef: $ref, fields: ["tier", "memberSince"]) {
  tier memberSince } }"""


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--iterations", type=int, default=300)
    parser.add_argument("--warmup", type=int, default=50)
    parser.add_argument("--jvm-warmup", type=int, default=1500, help="requests to warm DynamoDB Local's JIT")
    args = parser.parse_args(argv)

    with dynamodb_local() as local:
        table = unique_table_name("bench-partner")
        idp = make_idp()
        lh = import_handler(lambda_env(local.endpoint, table, idp))
        services = lh.services
        create_table(services.dynamodb, table)

        from domain.partners.consent import Purpose
        from domain.partners.registry import MAX_RATE, Partner, PartnerStatus
        from infra import keys
        from infra.partners.consents import Consents, link_pk
        from infra.partners.lookups import PartnerLookups
        from infra.partners.registry import CLIENT_SK, PartnerRegistry, client_pk

        now = datetime.now(timezone.utc)
        partner = PartnerRegistry(TENANT).register(Partner("bench-air", "Bench Air", "bench-air", ("member-status",),
                                                           MAX_RATE, PartnerStatus.ACTIVE, now.isoformat(),
                                                           now.isoformat()), "bench", now)
        member = seed_member()
        consent = Consents(TENANT).grant(member, partner, Purpose.TIER_MATCH, ("tier", "memberSince"), "bench", now)
        linked = consent.consent.linked_id
        token = idp.partner_token("bench-air")
        raw = raw_client(local.endpoint)
        lookups = PartnerLookups(TENANT, lambda joined: joined[:10])
        responses: list[dict] = []

        def handler(ref: dict) -> Callable[[], None]:
            body = graphql_body(QUERY, {"ref": ref})

            def run() -> None:
                rid = f"{uuid.uuid4().hex[:14]}="
                responses.append(lh.handler(http_api_event(body, token=token, request_id=rid), LambdaContext(rid)))
            return run

        def raw_reads() -> None:
            window = int(time.time() // 60) * 60
            raw.get_item(TableName=table, Key={"PK": {"S": client_pk(TENANT, "bench-air")}, "SK": {"S": CLIENT_SK}})
            raw.update_item(TableName=table, Key={"PK": {"S": keys.partner_pk(TENANT, "bench-raw")},
                                                  "SK": {"S": keys.rate_window_sk(window)}},
                            UpdateExpression="ADD #c :one", ExpressionAttributeNames={"#c": "count"},
                            ExpressionAttributeValues={":one": {"N": "1"}})
            raw.get_item(TableName=table, Key={"PK": {"S": link_pk(TENANT, linked)}, "SK": {"S": "LINK"}},
                         ConsistentRead=True)
            mpk = {"S": keys.member_pk(TENANT, member)}
            raw.batch_get_item(RequestItems={table: {"Keys": [{"PK": mpk, "SK": {"S": keys.PROFILE}},
                                                              {"PK": mpk, "SK": {"S": "~LIFE#LAPSE"}}],
                                                     "ConsistentRead": True}})
            raw.put_item(TableName=table, Item={"PK": {"S": keys.member_pk(TENANT, member)},
                                                "SK": {"S": f"~RAW#{uuid.uuid4().hex}"}, "kind": {"S": "raw"}})

        paths: dict[str, Callable[[], object]] = {
            "look-up via Lambda handler": handler({"linkedId": linked}),
            "look-up via PartnerLookups": lambda: lookups.status("bench-air", linked, None, ("tier", "memberSince"),
                                                                 datetime.now(timezone.utc)),
            "raw boto3: the 5 calls": raw_reads,
        }
        for i in range(args.jvm_warmup):
            raw_reads() if i % 5 else paths["look-up via PartnerLookups"]()
        times = interleave(paths, args.iterations, warmup=args.warmup)
        for r in responses:
            assert r["statusCode"] == 200 and response_json(r)["data"]["partnerMemberStatus"]["memberSince"], r

        counter = DynamoCallCounter(services.dynamodb)
        calls = {}
        for name, ref in (("consenting member", {"linkedId": linked}),
                          ("stranger", {"emailSha256": "0" * 64}), ("malformed reference", {"linkedId": "x"})):
            counter.reset()
            handler(ref)()
            calls[name] = Counter(counter.calls)
        counter.close()

    print(f"partner look-up benchmark ({args.iterations} interleaved warm iterations after {args.jvm_warmup} + "
          f"{args.warmup} warm-up, DynamoDB Local; {machine()})")
    for name, c in calls.items():
        print(f"  DynamoDB calls per look-up, {name:<20}: {sum(c.values())} ({', '.join(f'{k} {v}' for k, v in sorted(c.items()))})")
    same = len({tuple(sorted(c.items())) for c in calls.values()}) == 1
    print(f"  the same calls whatever the outcome: {'YES' if same else 'NO'}")
    for name, t in times.items():
        print(f"  {name:<30} median {median(t) * 1000:7.2f} ms   p99 {p99(t) * 1000:7.2f} ms")
    base = median(times["raw boto3: the 5 calls"])
    for name in ("look-up via Lambda handler", "look-up via PartnerLookups"):
        print(f"  ratio {name:<28} / raw calls   median {median(times[name]) / base:5.2f}x")


if __name__ == "__main__":
    main()
