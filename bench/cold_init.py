"""Cold init: a fresh process importing the Lambda handler against one that only builds a boto3 DynamoDB
client, interleaved, plus where the handler's init time goes (phases and `-X importtime`).

    .venv/bin/python -m bench.cold_init [--runs 15] [--importtime-runs 3] [--top 10] [--no-variants]

The handler builds its clients and the schema at import (api/lambda_handler.py); the environment
api.settings.from_env reads points it at a table on a local endpoint, and the import needs no network
(checked below with connect() refused). Figures are wall-clock times of whole child processes, as the
Lambda INIT phase would see them (minus the runtime's own bootstrap).
"""
from __future__ import annotations

import argparse
import json
import re
import subprocess
import sys
import time
from collections import defaultdict
from typing import Any

from bench.common import (
    PYTHON,
    ROOT,
    child_env,
    create_table,
    dynamodb_local,
    graphql_body,
    http_api_event,
    lambda_env,
    machine,
    make_idp,
    median,
    raw_client,
    unique_table_name,
    verdict,
)

TARGET = 1.2

BARE = "pass"
BASELINE = "import boto3; boto3.client('dynamodb', region_name='us-east-1')"
HANDLER = "import api.lambda_handler"
HANDLER_GC_OFF = "import gc; gc.disable(); import api.lambda_handler"
# Lambda's function package and layer are read-only: without shipped bytecode every module outside the
# runtime's stdlib would be compiled from source at every cold start. The package ships CPython 3.12
# bytecode (scripts/lambda-bytecode, checked by scripts/package-check); this child shows what it saves:
# no .pyc is read for site-packages or the project, none is written; the stdlib keeps its .pyc.
NO_PYC_PRELUDE = """
import sys, sysconfig, importlib._bootstrap_external as _be
_std = sysconfig.get_paths()["stdlib"]
_orig = _be.cache_from_source
def _cache_from_source(path, debug_override=None, *, optimization=None):
    if path.startswith(_std) and "site-packages" not in path:
        return _orig(path, debug_override, optimization=optimization)
    return "/nonexistent-bench-pycache" + path + "c"
_be.cache_from_source = _cache_from_source
sys.dont_write_bytecode = True
"""
HANDLER_NO_PYC = NO_PYC_PRELUDE + HANDLER

NO_NETWORK = """
import socket
def _refuse(*a, **k):
    raise OSError("bench: the handler import tried to open a network connection")
socket.socket.connect = _refuse
socket.socket.connect_ex = _refuse
socket.create_connection = _refuse
import api.lambda_handler
print("ok")
"""

SMOKE = """
import json, os, sys
import api.lambda_handler as h
from bench.common import LambdaContext
event = json.loads(os.environ["BENCH_EVENT"])
r = h.handler(event, LambdaContext(event["requestContext"]["requestId"]))
print(r["statusCode"], r["body"])
"""

PHASES = """
import json, sys, time
marks = [time.perf_counter()]
names = []
def mark(name):
    marks.append(time.perf_counter()); names.append(name)
import botocore.session, pynamodb.models
mark("botocore + pynamodb")
import graphql, strawberry
mark("graphql-core + strawberry")
import jwt, cryptography.hazmat.primitives.asymmetric.ec
mark("pyjwt + cryptography")
import asyncio, mangum, aws_lambda_powertools.logging
mark("asyncio + mangum + powertools")
import api.settings, api.runtime, api.http, api.asgi
mark("project modules (api, resolvers, domain, infra)")
import api.runtime as rt
build = {}
def wrap(label, attr):
    fn = getattr(rt, attr, None)
    if fn is None:
        return
    def timed(*a, **k):
        t = time.perf_counter()
        try:
            return fn(*a, **k)
        finally:
            build[label] = build.get(label, 0.0) + time.perf_counter() - t
    setattr(rt, attr, timed)
wrap("bind_table (botocore session + client)", "bind_table")
wrap("TokenVerifier", "TokenVerifier")
wrap("build_schema", "build_schema")
wrap("build_services (all of the above and the rest)", "build_services")
import api.lambda_handler
mark("api.lambda_handler body (build_services, Logger, Api, Mangum)")
print(json.dumps({"phases": [[n, marks[i + 1] - marks[i]] for i, n in enumerate(names)],
                  "build": build, "total": marks[-1] - marks[0], "modules": len(sys.modules)}))
"""

# What a copy restored from a SnapStart snapshot runs before its first request (api/snapstart.py); here
# without SSM, so the settings reload reads the environment only (in AWS add one GetParameters round trip).
RESTORE = """
import json, time
import api.lambda_handler as h
from api.settings import from_env
from api.snapstart import after_restore
t = time.perf_counter()
after_restore(h.services, from_env)
print(json.dumps({"restore": time.perf_counter() - t}))
"""

BASELINE_PHASES = """
import json, sys, time
t0 = time.perf_counter()
import boto3
t1 = time.perf_counter()
boto3.client('dynamodb', region_name='us-east-1')
t2 = time.perf_counter()
print(json.dumps({"phases": [["import boto3", t1 - t0], ["boto3.client('dynamodb')", t2 - t1]],
                  "total": t2 - t0, "modules": len(sys.modules)}))
"""


def run_child(code: str, env: dict[str, str], *flags: str) -> subprocess.CompletedProcess:
    return subprocess.run([PYTHON, *flags, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True,
                          timeout=120)


def wall(code: str, env: dict[str, str]) -> float:
    t = time.perf_counter()
    done = run_child(code, env)
    elapsed = time.perf_counter() - t
    if done.returncode != 0:
        raise RuntimeError(f"child failed ({done.returncode}): {code!r}\n{done.stderr[-2000:]}")
    return elapsed


def json_child(code: str, env: dict[str, str]) -> dict[str, Any]:
    done = run_child(code, env)
    if done.returncode != 0:
        raise RuntimeError(f"child failed: {done.stderr[-2000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


_IMPORTTIME = re.compile(r"^import time:\s+(\d+) \|\s+(\d+) \|( *)(\S+)\s*$")


def importtime(code: str, env: dict[str, str], runs: int) -> dict[str, tuple[float, float, int, int]]:
    """module -> (median self s, median cumulative s, nesting depth, first-seen order), over `runs` children."""
    selfs: dict[str, list[float]] = defaultdict(list)
    cums: dict[str, list[float]] = defaultdict(list)
    depth: dict[str, int] = {}
    order: dict[str, int] = {}
    for _ in range(runs):
        done = run_child(code, env, "-X", "importtime")
        if done.returncode != 0:
            raise RuntimeError(f"importtime child failed: {done.stderr[-2000:]}")
        for line in done.stderr.splitlines():
            m = _IMPORTTIME.match(line)
            if not m:
                continue
            name = m.group(4)
            selfs[name].append(int(m.group(1)) / 1e6)
            cums[name].append(int(m.group(2)) / 1e6)
            depth.setdefault(name, (len(m.group(3)) - 1) // 2)
            order.setdefault(name, len(order))
    return {n: (median(selfs[n]), median(cums[n]), depth[n], order[n]) for n in selfs}


def by_package(modules: dict[str, tuple[float, float, int, int]], names: set[str] | None = None
               ) -> list[tuple[str, float, int]]:
    totals: dict[str, float] = defaultdict(float)
    counts: dict[str, int] = defaultdict(int)
    for name, (self_s, _cum, _d, _o) in modules.items():
        if names is not None and name not in names:
            continue
        top = name.split(".")[0]
        totals[top] += self_s
        counts[top] += 1
    return sorted(((p, t, counts[p]) for p, t in totals.items()), key=lambda x: -x[1])


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=15, help="fresh processes per kind (default 15)")
    parser.add_argument("--importtime-runs", type=int, default=3)
    parser.add_argument("--phase-runs", type=int, default=5)
    parser.add_argument("--top", type=int, default=10)
    parser.add_argument("--no-variants", action="store_true", help="skip the gc-off and no-.pyc variants")
    args = parser.parse_args(argv)

    with dynamodb_local() as local:
        table = unique_table_name("bench-cold")
        idp = make_idp()
        create_table(raw_client(local.endpoint), table)
        env = child_env(lambda_env(local.endpoint, table, idp))

        kinds = {"python -c pass": BARE, "boto3 client (baseline)": BASELINE, "import api.lambda_handler": HANDLER}
        if not args.no_variants:
            kinds["  variant: gc disabled during import"] = HANDLER_GC_OFF
            kinds["  variant: no .pyc for deps + app"] = HANDLER_NO_PYC
        for code in kinds.values():  # warm the OS file cache and any stale .pyc once, untimed
            wall(code, env)
        times: dict[str, list[float]] = {k: [] for k in kinds}
        names = list(kinds)
        for i in range(args.runs):  # interleaved, rotating the order: machine noise hits every kind alike
            k = i % len(names)
            for name in names[k:] + names[:k]:
                times[name].append(wall(kinds[name], env))

        bare = median(times["python -c pass"])
        base = median(times["boto3 client (baseline)"])
        handler = median(times["import api.lambda_handler"])
        ratio = handler / base
        net_ratio = (handler - bare) / (base - bare)
        print(f"cold init benchmark ({args.runs} interleaved fresh processes per kind, Python "
              f"{sys.version.split()[0]}, {machine()})")
        for name in names:
            med = median(times[name])
            extra = "" if name == "python -c pass" else (
                f"   net of interpreter {(med - bare) * 1000:7.1f} ms   x{med / base:5.2f} of baseline")
            print(f"  {name:<38} median {med * 1000:7.1f} ms  min {min(times[name]) * 1000:7.1f} ms{extra}")
        print(f"  ratio handler/baseline (median wall)   {ratio:5.2f}x   {verdict(ratio, TARGET)}")
        print(f"  ratio net of interpreter start         {net_ratio:5.2f}x")
        print(f"  to meet {TARGET:g}x the handler must lose    {(handler - TARGET * base) * 1000:7.1f} ms "
              f"(budget {TARGET * base * 1000:.1f} ms of wall time)")

        guard = run_child(NO_NETWORK, env)
        print(f"  import opens no network connection:    "
              f"{'yes' if guard.returncode == 0 else 'NO: ' + guard.stderr.strip().splitlines()[-1]}")
        event = http_api_event(graphql_body("{ me { id } }"), token=idp.member_token("m-cold-smoke"))
        smoke = run_child(SMOKE, {**env, "BENCH_EVENT": json.dumps(event)})
        print(f"  fresh handler answers `me`:            "
              f"{smoke.stdout.strip() if smoke.returncode == 0 else 'FAILED ' + smoke.stderr[-300:]}")
        restore = median([json_child(RESTORE, env)["restore"] for _ in range(3)])
        print(f"  SnapStart restore hook (no SSM):       {restore * 1000:7.1f} ms")

        # -- where the handler's init goes: phases inside the process -----------------------------------
        phase_runs = [json_child(PHASES, env) for _ in range(args.phase_runs)]
        base_runs = [json_child(BASELINE_PHASES, env) for _ in range(args.phase_runs)]
        print(f"\nphases inside the process (median of {args.phase_runs}; each phase pays for what earlier ones "
              f"did not import)")
        print("  baseline:")
        for i, (name, _) in enumerate(base_runs[0]["phases"]):
            print(f"    {name:<60} {median([r['phases'][i][1] for r in base_runs]) * 1000:7.1f} ms")
        print(f"    {'total (' + str(base_runs[0]['modules']) + ' modules loaded)':<60} "
              f"{median([r['total'] for r in base_runs]) * 1000:7.1f} ms")
        print("  handler:")
        for i, (name, _) in enumerate(phase_runs[0]["phases"]):
            print(f"    {name:<60} {median([r['phases'][i][1] for r in phase_runs]) * 1000:7.1f} ms")
        for name in phase_runs[0]["build"]:
            print(f"      of which {name:<51} {median([r['build'][name] for r in phase_runs]) * 1000:7.1f} ms")
        print(f"    {'total (' + str(phase_runs[0]['modules']) + ' modules loaded)':<60} "
              f"{median([r['total'] for r in phase_runs]) * 1000:7.1f} ms")

        # -- -X importtime ------------------------------------------------------------------------------
        mods = importtime(HANDLER, env, args.importtime_runs)
        base_mods = importtime(BASELINE, env, args.importtime_runs)
        print(f"\n-X importtime of `{HANDLER}` (median of {args.importtime_runs}; importtime inflates times; "
              f"the handler module's self time includes build_services)")
        print(f"  top {args.top} by cumulative time:")
        print(f"    {'cumulative':>10} {'self':>8}  module (indented by import depth)")
        for name, (self_s, cum, depth, _o) in sorted(mods.items(), key=lambda kv: -kv[1][1])[:args.top]:
            print(f"    {cum * 1000:7.1f} ms {self_s * 1000:5.1f} ms  {'  ' * depth}{name}")
        total_self = sum(v[0] for v in mods.values())
        print(f"  self time by top-level package (all {len(mods)} modules: {total_self * 1000:.1f} ms):")
        for pkg, t, n in by_package(mods)[:args.top]:
            print(f"    {t * 1000:7.1f} ms  {n:4d} modules  {pkg}")
        extra = set(mods) - set(base_mods)
        extra_self = sum(mods[n][0] for n in extra)
        print(f"  modules the handler loads that the boto3 baseline does not: {len(extra)}, "
              f"{extra_self * 1000:.1f} ms self; by package:")
        for pkg, t, n in by_package(mods, extra)[:args.top]:
            print(f"    {t * 1000:7.1f} ms  {n:4d} modules  {pkg}")
        skipped = set(base_mods) - set(mods)
        print(f"  (the baseline loads {len(skipped)} modules the handler does not, "
              f"{sum(base_mods[n][0] for n in skipped) * 1000:.1f} ms self: "
              f"{', '.join(p for p, _t, _n in by_package(base_mods, skipped)[:5])})")


if __name__ == "__main__":
    main()
