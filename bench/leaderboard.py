"""Leaderboard top 10 through the Lambda handler and through infra, against a raw boto3 Query of one of the
board's GSI partitions (the same Limit, backward), interleaved; DynamoDB calls and items read per top 10 and
per `me.leaderboardRank`, at two board sizes.

    .venv/bin/python -m bench.leaderboard [--members 5000] [--iterations 200] [--warmup 30] [--jvm-warmup 1500]

The board is written by `Leaderboards.bulk_load` (the builders the listener uses, in batch writes). A top 10
is one Query per shard (infra/leaderboards/boards.py, SHARDS = 4) run in parallel and merged; the raw
baseline is one of those four Queries alone, so the ratio prices the fan-out, the merge and the API.
"""
from __future__ import annotations

import argparse
import random
import uuid
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
    unique_table_name,
)
from bench.me_latency import import_handler

TOP10 = "query Top { leaderboard(period: ALL_TIME, first: 10) { edges { node { rank displayName score } } } }"
RANK = "query Rank { me { leaderboardRank(period: ALL_TIME) { rank exact score approximateWithin } } }"
TARGET_CALLS = 4  # one Query per shard


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--members", type=int, default=5000, help="members on the large board (the small: a tenth)")
    parser.add_argument("--iterations", type=int, default=200)
    parser.add_argument("--warmup", type=int, default=30)
    parser.add_argument("--jvm-warmup", type=int, default=1500, help="requests to warm DynamoDB Local's JIT")
    args = parser.parse_args(argv)

    with dynamodb_local() as local:
        table = unique_table_name("bench-lb")
        idp = make_idp()
        lh = import_handler(lambda_env(local.endpoint, table, idp))
        services = lh.services
        create_table(services.dynamodb, table)

        from domain.leaderboards.periods import ALL_TIME_BOARD
        from infra.leaderboards import SHARDS, Leaderboards, ReadCost, Seed
        from infra.leaderboards.boards import shard_pk

        now = datetime.now(timezone.utc)
        rng = random.Random(7)
        sizes = (max(10, args.members // 10), args.members)
        tenants = {n: f"{TENANT}-{n}" if n != args.members else TENANT for n in sizes}
        members: dict[int, list[str]] = {}
        for n, tenant in tenants.items():
            seeds = [Seed(f"m-{uuid.uuid4().hex[:10]}", f"Fan {i}", rng.randint(1, 50_000)) for i in range(n)]
            Leaderboards(tenant).bulk_load(seeds, now, "UTC")
            members[n] = [s.member_id for s in sorted(seeds, key=lambda s: -s.qp_all)]

        boards = Leaderboards(TENANT)
        raw = raw_client(local.endpoint)
        shard_query = dict(TableName=table, IndexName="GSI1", KeyConditionExpression="GSI1PK = :pk",
                           ExpressionAttributeValues={":pk": {"S": shard_pk(TENANT, ALL_TIME_BOARD, 0)}},
                           ScanIndexForward=False, Limit=11)
        deep = members[args.members][len(members[args.members]) // 2]  # the median member: approximate rank
        token = idp.member_token(deep)
        bodies = {"top": graphql_body(TOP10), "rank": graphql_body(RANK)}
        responses: list[dict] = []

        def handler(which: str) -> Callable[[], None]:
            def run() -> None:
                rid = f"{uuid.uuid4().hex[:14]}="
                responses.append(lh.handler(http_api_event(bodies[which], token=token, request_id=rid),
                                            LambdaContext(rid)))
            return run

        paths: dict[str, Callable[[], object]] = {
            "top 10 via Lambda handler": handler("top"),
            "top 10 via Leaderboards.ranked": lambda: boards.ranked(ALL_TIME_BOARD, 10),
            "raw boto3 Query (one shard)": lambda: raw.query(**shard_query),
        }
        for i in range(args.jvm_warmup):
            raw.query(**shard_query) if i % 10 else paths["top 10 via Leaderboards.ranked"]()
        times = interleave(paths, args.iterations, warmup=args.warmup)
        for r in responses:
            assert r["statusCode"] == 200 and len(response_json(r)["data"]["leaderboard"]["edges"]) == 10, r

        # -- calls and items, at both sizes -------------------------------------------------------------
        counter = DynamoCallCounter(services.dynamodb)
        counter.reset()
        handler("top")()
        handler_calls = list(counter.calls)
        counter.reset()
        handler("rank")()
        rank_calls = list(counter.calls)
        counter.close()
        mine = response_json(responses[-1])["data"]["me"]["leaderboardRank"]
        truth = members[args.members].index(deep) + 1  # scores may tie: the true rank is at most this

        print(f"leaderboard benchmark ({args.iterations} interleaved warm iterations after {args.jvm_warmup} + "
              f"{args.warmup} warm-up, DynamoDB Local, {SHARDS} shards; {machine()})")
        for n, tenant in tenants.items():
            top, rank = ReadCost(), ReadCost()
            Leaderboards(tenant).ranked(ALL_TIME_BOARD, 10, cost=top)
            Leaderboards(tenant).rank(members[n][len(members[n]) // 2], ALL_TIME_BOARD, cost=rank)
            print(f"  {n:>6} members: top 10 = {top.calls} Query calls, {top.items} items read; "
                  f"median member's rank = {rank.calls} calls, {rank.items} items read")
        print(f"  DynamoDB calls per top 10 via the handler: {len(handler_calls)} {sorted(set(handler_calls))} "
              f"(target {TARGET_CALLS}: {'MET' if len(handler_calls) <= TARGET_CALLS else 'MISSED'})")
        print(f"  DynamoDB calls per me.leaderboardRank (median member): {len(rank_calls)} {sorted(set(rank_calls))}; "
              f"answer {mine}, rank by position {truth}")
        for name, t in times.items():
            print(f"  {name:<34} median {median(t) * 1000:7.2f} ms   p99 {p99(t) * 1000:7.2f} ms")
        base = median(times["raw boto3 Query (one shard)"])
        for name in ("top 10 via Lambda handler", "top 10 via Leaderboards.ranked"):
            print(f"  ratio {name:<30} / raw Query   median {median(times[name]) / base:5.2f}x")


if __name__ == "__main__":
    main()
