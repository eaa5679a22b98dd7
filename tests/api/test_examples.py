"""The storefront examples in examples/ run, as printed at their top, against a fresh local API.

The API is the real ASGI app under uvicorn on a free port, in dev mode, trusting the session's dev IdP,
on a tenant of its own seeded with the demo data `make run` starts with (`api.demo.seed_demo`). Each
example runs as a subprocess, once as a demo member who is already enrolled and once as a new member
who enrolls first. They must exit 0 and print every milestone of the walk-through, with numbers that
agree with the demo data and with each other. Apollo Client runs in development mode and must print
no warning or error at all (its cache warnings go to the console), so a type a client cannot cache
safely shows up here as a failure.

Node's dependencies come from examples/node/package-lock.json: `npm ci` runs there when its
node_modules is missing (the one step that needs the npm registry).
"""
from __future__ import annotations

import fcntl
import math
import os
import re
import subprocess
import sys
import tempfile
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator

import pytest

from api.demo import DEMO_MEMBERS
from api.dev_idp import DevIdentityProvider
from api.http import Api
from tests.api.demo_support import demo_services
from tests.support import live_server

ROOT = Path(__file__).resolve().parents[2]
PYTHON_EXAMPLE = ROOT / "examples" / "python" / "storefront.py"
NODE_DIR = ROOT / "examples" / "node"

DEMO_AVAILABLE, DEMO_PENDING = 1378, 210  # what each demo member has right after seeding (api/demo.py)
SIGNUP_POINTS = 100  # the demo program's signup rule
WALK_THROUGH_TIMEOUT = 120


@dataclass(frozen=True)
class LocalApi:
    url: str
    tenant: str
    idp: DevIdentityProvider

    def member_token(self, member_id: str, email: str | None = None) -> str:
        return self.idp.member_token(member_id, email=email)

    @property
    def service_token(self) -> str:
        return self.idp.service_token("order-system")


@pytest.fixture(scope="module")
def local_api(dynamodb_endpoint, table_name, services, idp) -> Iterator[LocalApi]:
    """`make run`'s API on a tenant of its own (`services` makes sure the session's table exists)."""
    del services
    tenant, built = demo_services(dynamodb_endpoint, table_name, idp)
    with live_server(Api(built)) as base:
        yield LocalApi(f"{base}/graphql", tenant, idp)


@pytest.fixture(scope="module")
def node_example() -> Path:
    # One `npm ci` at a time: pytest-xdist workers may each get here first.
    with open(Path(tempfile.gettempdir()) / "kizuna-examples-node.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not (NODE_DIR / "node_modules" / "@apollo" / "client").is_dir():
            subprocess.run(["npm", "ci", "--no-audit", "--no-fund", "--loglevel=error"], cwd=NODE_DIR,
                           check=True, timeout=600)
    return NODE_DIR


@dataclass(frozen=True)
class Run:
    returncode: int
    stdout: str
    stderr: str

    def __str__(self) -> str:
        return f"exit {self.returncode}\n--- stdout\n{self.stdout}\n--- stderr\n{self.stderr}"


def run_example(command: list[str], cwd: Path, api: LocalApi, member_token: str) -> Run:
    # The settings go in through the environment, as each example's header says.
    env = {**os.environ, "KIZUNA_URL": api.url, "KIZUNA_MEMBER_TOKEN": member_token,
           "KIZUNA_SERVICE_TOKEN": api.service_token, "NO_COLOR": "1"}
    done = subprocess.run(command, cwd=cwd, env=env, capture_output=True, text=True, timeout=WALK_THROUGH_TIMEOUT)
    return Run(done.returncode, done.stdout, done.stderr)


def python_example(api: LocalApi, member_token: str) -> Run:
    return run_example([sys.executable, str(PYTHON_EXAMPLE)], ROOT, api, member_token)


def node_example_run(node_dir: Path, api: LocalApi, member_token: str) -> Run:
    # What `npm start` runs (package.json), without npm's own lines around it.
    return run_example(["node", "--conditions=development", "storefront.mjs"], node_dir, api, member_token)


# -- what a walk-through prints ------------------------------------------------------------------------

STEPS = ["enroll", "dashboard", "earn", "rewards", "history", "redeem", "error", "user-error", "coupon", "order",
         "deliver", "refund", "dashboard", "done"]


def milestones(out: str) -> list[tuple[str, str]]:
    return [(m.group(1), m.group(2)) for m in re.finditer(r"^\[([a-z-]+)\] (.*)$", out, re.MULTILINE)]


def one(pattern: str, text: str, run: Run) -> re.Match[str]:
    found = re.search(pattern, text, re.MULTILINE)
    assert found, f"no line matching {pattern!r}\n{run}"
    return found


def assert_walk_through(run: Run, *, enrolls: bool, member_id: str, available: int, pending: int) -> None:
    """Every step ran, in order, and the numbers the example printed agree with each other."""
    assert run.returncode == 0, str(run)
    steps = [step for step, _ in milestones(run.stdout) if step not in ("apollo", "badge")]  # Node's own
    collapsed = [s for i, s in enumerate(steps) if i == 0 or steps[i - 1] != s]
    assert collapsed == STEPS, f"steps out of order: {collapsed}\n{run}"
    out = run.stdout

    if enrolls:
        one(rf"^\[enroll\] enrolled .* \({re.escape(member_id)}\), referral code [A-Z0-9]+, "
            rf"{SIGNUP_POINTS} points for joining$", out, run)
    else:
        one(rf"^\[enroll\] already enrolled as .* \({re.escape(member_id)}\)$", out, run)

    balances = re.findall(r"^\[dashboard\] .*: available=(\d+) pending=(\d+) lifetime=(\d+)$", out, re.MULTILINE)
    assert len(balances) == 2, str(run)
    (a0, p0, _), (a1, p1, _) = [tuple(map(int, b)) for b in balances]
    assert (a0, p0) == (available, pending), str(run)

    # Paging with `after` ends exactly on the last entry: no empty page after a full one.
    entries, pages = map(int, one(r"^\[history\] (\d+) entries in (\d+) pages$", out, run).groups())
    assert entries >= 1 and pages == math.ceil(entries / 2), str(run)

    # The ways to earn come from the program summary a member may read.
    one(r"^\[earn\] .*\bsignup 100\b.*\breferral 200\b", out, run)
    code, reward_id, cost, left = one(r"^\[redeem\] coupon (\S+) for (\S+) \((\d+) points\), ISSUED; "
                                      r"(\d+) points left$", out, run).groups()
    assert reward_id == "serum-sample", f"the cheapest reward within reach is the serum sample\n{run}"
    # The redeem's payload carries the member with the balance the redemption left.
    assert int(left) == a0 - int(cost), str(run)
    one(rf"^\[redeem\] retried with the same Idempotency-Key: the same coupon {re.escape(code)}$", out, run)

    one(r"^\[error\] couponValidate: BAD_USER_INPUT on code: .*at most 32 characters", out, run)
    one(r"^\[user-error\] couponConsume: code TOO_LONG: .*at most 32 characters", out, run)

    one(rf"^\[coupon\] {re.escape(code)} is ISSUED: .* for {re.escape(member_id)}$", out, run)
    order_id = one(rf"^\[coupon\] {re.escape(code)} CONSUMED on order (web-[0-9a-f]+)$", out, run).group(1)
    credited = int(one(rf"^\[order\] {order_id} CREDITED: (\d+) points pending for {re.escape(member_id)}$",
                       out, run).group(1))
    one(rf"^\[deliver\] {order_id} DELIVERY_RECORDED: ", out, run)
    reversed_, line_1_left, line_2_left = one(
        rf"^\[refund\] {order_id} line 2 refunded: (\d+) points reversed; "
        r"left to refund: line 1 ([\d.]+), line 2 ([\d.]+)$", out, run).groups()
    reversed_ = int(reversed_)
    # `remaining` in the refund's payload: all of line 1, nothing of line 2.
    assert (float(line_1_left), float(line_2_left)) == (4800, 0), str(run)
    # 4,800 yen of skincare (double points) and 3,200 of apparel at 1 point per 100 yen; the apparel refunded.
    assert (credited, reversed_) == (128, 32), str(run)

    assert (a1, p1) == (a0 - int(cost), p0 + credited - reversed_), str(run)
    one(rf"^\[done\] spent {cost}, pending \+{credited - reversed_}$", out, run)


def assert_cache_kept_current(run: Run, available: int) -> None:
    """Node: the badge from the server after the dashboard, then from the cache alone after the redeem,
    showing the balance the redeem's payload carried."""
    badges = re.findall(r"^\[badge\] (\d+) points(.*)$", run.stdout, re.MULTILINE)
    cost = int(one(r"^\[redeem\] coupon \S+ for \S+ \((\d+) points\)", run.stdout, run).group(1))
    assert badges == [(str(available), ""), (str(available - cost), ", from the cache (no refetch)")], str(run)


# -- the examples ---------------------------------------------------------------------------------------

def test_python_example_walks_a_demo_member_through_redeem_checkout_and_a_partial_refund(local_api):
    member_id, _, email, _ = DEMO_MEMBERS[0]
    run = python_example(local_api, local_api.member_token(member_id, email))
    assert_walk_through(run, enrolls=False, member_id=member_id, available=DEMO_AVAILABLE, pending=DEMO_PENDING)
    assert run.stderr == "", str(run)


def test_python_example_enrolls_a_new_member_before_the_walk_through(local_api):
    member_id = f"shopper-{uuid.uuid4().hex[:8]}"
    run = python_example(local_api, local_api.member_token(member_id))
    assert_walk_through(run, enrolls=True, member_id=member_id, available=SIGNUP_POINTS, pending=0)
    assert run.stderr == "", str(run)


def test_node_example_with_apollo_in_development_mode_walks_a_demo_member_through_without_a_console_warning(
        local_api, node_example):
    member_id, _, email, _ = DEMO_MEMBERS[1]
    run = node_example_run(node_example, local_api, local_api.member_token(member_id, email))
    one(r"^\[apollo\] Apollo Client 4\.\d+\.\d+ in development mode$", run.stdout, run)
    # The page header's badge reads less of the same member after the dashboard: the case where Apollo
    # warns that cached data may be lost when an object without identity would be replaced.
    assert "Cache data may be lost" not in run.stdout + run.stderr, str(run)
    # console.warn and console.error write to stderr; the walk-through itself only logs to stdout.
    assert run.stderr == "", str(run)
    assert_walk_through(run, enrolls=False, member_id=member_id, available=DEMO_AVAILABLE, pending=DEMO_PENDING)
    assert_cache_kept_current(run, DEMO_AVAILABLE)


def test_node_example_enrolls_a_new_member_before_the_walk_through_without_a_console_warning(
        local_api, node_example):
    member_id = f"shopper-{uuid.uuid4().hex[:8]}"
    run = node_example_run(node_example, local_api, local_api.member_token(member_id))
    assert "Cache data may be lost" not in run.stdout + run.stderr, str(run)
    assert run.stderr == "", str(run)
    assert_walk_through(run, enrolls=True, member_id=member_id, available=SIGNUP_POINTS, pending=0)
    assert_cache_kept_current(run, SIGNUP_POINTS)
