"""Warm `me` latency through the Lambda handler against a raw boto3 Query of the same dashboard range,
interleaved, plus a GetItem baseline, DynamoDB calls per `me`, and where the handler's time goes.

    .venv/bin/python -m bench.me_latency [--iterations 300] [--warmup 50] [--jvm-warmup 3000] [--no-whatif] [--profile]

The handler is api.lambda_handler.handler, imported as Lambda does (configuration in the environment,
then import), called with an API Gateway HTTP API v2 event carrying a dev-IdP member token. The
baselines use a separate plain boto3 client against the same DynamoDB Local and table.
"""
from __future__ import annotations

import argparse
import cProfile
import importlib
import io
import os
import pstats
import sys
import time
import uuid
from typing import Any, Callable

import jwt

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

TARGET_RATIO = 1.6
TARGET_CALLS = 1
ME = ("query Me { me { id memberId name email referralCode tier { current { name rank } progress { needed } } joinedAt "
      "points { available pending lifetime debt } } }")


def import_handler(env: dict[str, str]) -> Any:
    """Import api.lambda_handler as Lambda does: configuration in the environment first, then import."""
    os.environ.update(env)
    for name in [k for k in os.environ if k.startswith("KIZUNA_") and k not in env]:
        del os.environ[name]
    if "api.lambda_handler" in sys.modules:
        return importlib.reload(sys.modules["api.lambda_handler"])
    return importlib.import_module("api.lambda_handler")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--iterations", type=int, default=300)
    parser.add_argument("--warmup", type=int, default=50)
    parser.add_argument("--jvm-warmup", type=int, default=3000, help="requests to warm DynamoDB Local's JIT")
    parser.add_argument("--profile", action="store_true", help="also print a cProfile of 200 handler calls")
    parser.add_argument("--no-whatif", action="store_true", help="skip the monkeypatched what-if runs")
    args = parser.parse_args(argv)
    n = args.iterations

    with dynamodb_local() as local:
        table = unique_table_name("bench-me")
        idp = make_idp()
        lh = import_handler(lambda_env(local.endpoint, table, idp))
        services = lh.services
        create_table(services.dynamodb, table)
        member_id = seed_member(TENANT)
        token = idp.member_token(member_id)
        body = graphql_body(ME)

        from infra import keys

        pk = keys.member_pk(TENANT, member_id)
        assert (keys.DASHBOARD_FROM, keys.DASHBOARD_TO) == ("BADGE#", "PROG#~")
        raw = raw_client(local.endpoint)
        query_args = dict(TableName=table, KeyConditionExpression="PK = :pk AND SK BETWEEN :from AND :to",
                          ExpressionAttributeValues={":pk": {"S": pk}, ":from": {"S": keys.DASHBOARD_FROM},
                                                     ":to": {"S": keys.DASHBOARD_TO}},
                          ConsistentRead=True)  # Members.dashboard reads consistently too
        get_args = dict(TableName=table, Key={"PK": {"S": pk}, "SK": {"S": keys.PROFILE}}, ConsistentRead=True)
        expected_items = raw.query(**query_args)["Count"]

        # API Gateway sends a new event (new request id) every time: build them outside the timed region.
        pending: list[tuple[dict, LambdaContext]] = []

        def next_event() -> tuple[dict, LambdaContext]:
            rid = f"{uuid.uuid4().hex[:14]}="
            return http_api_event(body, token=token, request_id=rid), LambdaContext(rid)

        def prepare(count: int) -> None:
            pending.extend(next_event() for _ in range(count))

        responses: list[dict] = []

        def via_handler() -> None:
            event, context = pending.pop()
            responses.append(lh.handler(event, context))

        def raw_query() -> None:
            raw.query(**query_args)

        def raw_get() -> None:
            raw.get_item(**get_args)

        paths: dict[str, Callable[[], None]] = {"me via Lambda handler": via_handler,
                                                "raw boto3 Query (dashboard)": raw_query,
                                                "raw boto3 GetItem (profile)": raw_get}
        # DynamoDB Local is a JVM: its JIT needs a few thousand requests before latencies settle.
        prepare(args.jvm_warmup // 10)
        for i in range(args.jvm_warmup):
            raw_query() if i % 10 else via_handler()
        prepare(args.warmup + n)
        times = interleave(paths, n, warmup=args.warmup)
        expected = {"memberId": member_id, "name": "Bench Member"}
        for r in responses:  # every answer checked, after timing
            assert r["statusCode"] == 200, r
            me = response_json(r)["data"]["me"]
            assert {k: me[k] for k in expected} == expected, me

        # -- DynamoDB calls per `me` ------------------------------------------------------------------
        counter = DynamoCallCounter(services.dynamodb)
        per_request: list[list[str]] = []
        counted = 50
        prepare(counted)
        for _ in range(counted):
            counter.calls = []
            via_handler()
            per_request.append(list(counter.calls))
        wire = list(counter.wire)
        pynamodb_query_args = counter.last_params["Query"]  # what PynamoDB sent for the dashboard
        counts = sorted({len(c) for c in per_request})
        ops = sorted({op for c in per_request for op in c})
        counter.close()

        # -- where the handler's time goes: the same request, one layer at a time ------------------------
        from api.http import Api
        from api.messages import Request
        from infra.members import Members
        from resolvers.context import Context

        api: Api = lh.app.api
        headers = {"content-type": "application/json", "authorization": f"Bearer {token}"}
        principal = services.verifier.verify(token)

        def api_handle() -> None:
            api.handle(Request("POST", "/graphql", headers, body))

        def raw_query_pynamodb_params() -> None:
            raw.query(**pynamodb_query_args)

        def verify() -> None:
            services.verifier.verify(token)

        def execute() -> None:
            ctx = Context(principal=principal, tenant=principal.tenant, correlation_id="bench", services=services)
            services.schema.execute_sync(ME, context_value=ctx, operation_name="Me")

        def pynamodb_dashboard() -> None:
            Members(TENANT).dashboard(member_id)

        layers: dict[str, Callable[[], None]] = {
            "handler (Powertools + Mangum + ASGI + Api)": via_handler,
            "Api.handle (no Lambda/ASGI layers)": api_handle,
            "schema.execute_sync (no HTTP, no auth)": execute,
            "Members.dashboard (client + models)": pynamodb_dashboard,
            "raw boto3 Query, PynamoDB's parameters": raw_query_pynamodb_params,
            "raw boto3 Query": raw_query,
            "TokenVerifier.verify (ES256)": verify,
        }
        layer_n = max(100, n // 2)
        prepare(args.warmup // 5 + layer_n)
        layer_times = interleave(layers, layer_n, warmup=args.warmup // 5)

        # -- report -------------------------------------------------------------------------------------
        h, q, g = (times[k] for k in paths)
        print(f"me latency benchmark ({n} interleaved warm iterations after {args.jvm_warmup} + {args.warmup} warm-up, "
              f"DynamoDB Local, dashboard Query returns {expected_items} item(s); {machine()})")
        for name, t in times.items():
            print(f"  {name:<30} median {median(t) * 1000:7.2f} ms   p99 {p99(t) * 1000:7.2f} ms")
        r_med, r_p99 = median(h) / median(q), p99(h) / p99(q)
        print(f"  ratio handler/Query            median {r_med:5.2f}x    p99 {r_p99:5.2f}x   "
              f"{verdict(max(r_med, r_p99), TARGET_RATIO)} (median {'met' if r_med <= TARGET_RATIO else 'missed'}, "
              f"p99 {'met' if r_p99 <= TARGET_RATIO else 'missed'})")
        paired = median([a / b for a, b in zip(h, q)])
        print(f"  ratio handler/Query, paired    median of per-round ratios {paired:5.2f}x")
        print(f"  ratio handler/GetItem          median {median(h) / median(g):5.2f}x    p99 {p99(h) / p99(g):5.2f}x")
        print(f"  ratio Query/GetItem            median {median(q) / median(g):5.2f}x")
        print(f"  handler time over the Query    median {(median(h) - median(q)) * 1000:7.2f} ms")
        calls = counts[0] if len(counts) == 1 else counts
        print(f"  DynamoDB calls per me          {calls} {ops} over {counted} requests   "
              f"{verdict(max(counts), TARGET_CALLS)}")
        print(f"  DynamoDB call inside the handler (send -> parsed, botocore events) median "
              f"{median(wire) * 1000:.2f} ms")
        print(f"\nwhere the time goes ({layer_n} interleaved iterations; each layer includes the ones below it)")
        base = median(layer_times["raw boto3 Query"])
        for name, t in layer_times.items():
            print(f"  {name:<44} median {median(t) * 1000:7.2f} ms   p99 {p99(t) * 1000:7.2f} ms   "
                  f"x{median(t) / base:5.2f} of raw Query")
        lt = {k: median(v) for k, v in layer_times.items()}
        print("  differences (medians):")
        print(f"    Lambda layers (Powertools, Mangum, ASGI)   {(lt[list(layers)[0]] - lt[list(layers)[1]]) * 1000:6.2f} ms")
        print(f"    Api.handle minus execute (auth, JSON)      {(lt[list(layers)[1]] - lt[list(layers)[2]]) * 1000:6.2f} ms"
              f"   (token verification alone {lt['TokenVerifier.verify (ES256)'] * 1000:.2f} ms)")
        print(f"    GraphQL execution minus the data access    {(lt[list(layers)[2]] - lt[list(layers)[3]]) * 1000:6.2f} ms")
        same = lt["raw boto3 Query, PynamoDB's parameters"]
        # Members.dashboard sends its Query straight through the models' botocore client
        # (infra.items.base.read_range) and maps the items to models; the line below it is what building
        # the request through PynamoDB's Connection would add.
        print(f"    Members.dashboard minus raw boto3 (models) {(lt[list(layers)[3]] - lt['raw boto3 Query']) * 1000:6.2f} ms")
        print(f"    PynamoDB's own parameters would add        {(same - lt['raw boto3 Query']) * 1000:6.2f} ms   "
              f"(FilterExpression {pynamodb_query_args.get('FilterExpression', '-')[:40]}... with "
              f"{len(pynamodb_query_args.get('ExpressionAttributeValues', {})) - 3} kinds, "
              f"ReturnConsumedCapacity={pynamodb_query_args.get('ReturnConsumedCapacity', '-')})")

        # -- what-if: two changes, monkeypatched in this process only (no file outside bench/ changes) -----
        if not args.no_whatif:
            from infra.items import TableItem

            def dashboard_without_kind_filter(self: Members, member_id: str) -> list:
                """The same Query through PynamoDB's connection: no `kind IN (<every kind>)` FilterExpression."""
                conn, items, start = TableItem._get_connection(), [], None
                while True:
                    page = conn.query(self.pk(member_id), range_key_condition=TableItem.SK.between(
                        keys.DASHBOARD_FROM, keys.DASHBOARD_TO), consistent_read=True, exclusive_start_key=start)
                    items += [TableItem.from_raw_data(i) for i in page.get("Items", ())]
                    start = page.get("LastEvaluatedKey")
                    if not start:
                        return items

            verified: dict[str, tuple[Any, float]] = {}
            uncached_verify = services.verifier.verify

            def verify_with_cache(tok: str) -> Any:
                """Verified tokens remembered until they expire (keyed by the whole signed token)."""
                hit = verified.get(tok)
                if hit and hit[1] > time.time():
                    return hit[0]
                principal_ = uncached_verify(tok)
                verified[tok] = (principal_, float(jwt.decode(tok, options={"verify_signature": False})["exp"]))
                return principal_

            original_dashboard = Members.dashboard
            whatifs = {
                "no kind filter": (lambda: setattr(Members, "dashboard", dashboard_without_kind_filter),
                                   lambda: setattr(Members, "dashboard", original_dashboard)),
                "verified-token cache": (lambda: setattr(services.verifier, "verify", verify_with_cache),
                                         lambda: services.verifier.__dict__.pop("verify", None)),
            }
            print(f"\nwhat-if, monkeypatched in this process ({n} interleaved iterations each, handler vs raw Query)")
            for label, apply in [("as is", []), ("no kind filter", ["no kind filter"]),
                                 ("verified-token cache", ["verified-token cache"]),
                                 ("both", ["no kind filter", "verified-token cache"])]:
                for name in apply:
                    whatifs[name][0]()
                try:
                    prepare(args.warmup + n)
                    t = interleave({"handler": via_handler, "query": raw_query}, n, warmup=args.warmup)
                finally:
                    for name in apply:
                        whatifs[name][1]()
                ratio = median(t["handler"]) / median(t["query"])
                print(f"  {label:<22} handler median {median(t['handler']) * 1000:6.2f} ms   raw Query "
                      f"{median(t['query']) * 1000:6.2f} ms   ratio {ratio:5.2f}x   paired "
                      f"{median([a / b for a, b in zip(t['handler'], t['query'])]):5.2f}x   "
                      f"{verdict(ratio, TARGET_RATIO)}")
            for r in responses:
                assert r["statusCode"] == 200 and response_json(r)["data"]["me"]["memberId"] == member_id, r

        if args.profile:
            prepare(200)
            prof = cProfile.Profile()
            prof.enable()
            for _ in range(200):
                via_handler()
            prof.disable()
            out = io.StringIO()
            pstats.Stats(prof, stream=out).sort_stats("tottime").print_stats(25)
            print("\ncProfile of 200 handler calls, by own time:")
            print(out.getvalue())


if __name__ == "__main__":
    main()
