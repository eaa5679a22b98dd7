"""Shared benchmark helpers: DynamoDB Local, a unique table, the dev IdP and settings, a seeded member,
percentiles, Lambda events and a DynamoDB call counter hooked on botocore's events.

The machine is noisy: benchmarks compare against a baseline measured in the same run, interleaved,
and report ratios rather than absolute times.
"""
from __future__ import annotations

import base64
import copy
import json
import math
import os
import statistics
import sys
import time
import uuid
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Callable, Iterator, Sequence

from tests import aws_events

ROOT = Path(__file__).resolve().parent.parent
PYTHON = sys.executable
TENANT = "bench"
REGION = "us-east-1"
ISSUER = "https://idp.bench/"
AUDIENCE = "kizuna"

# Dummy credentials and no credential discovery, as on Lambda (credentials arrive in the environment):
# nothing reads ~/.aws or asks the instance metadata service.
OFFLINE_AWS_ENV = {
    "AWS_ACCESS_KEY_ID": "local",
    "AWS_SECRET_ACCESS_KEY": "local",
    "AWS_REGION": REGION,
    "AWS_DEFAULT_REGION": REGION,
    "AWS_EC2_METADATA_DISABLED": "true",
    "AWS_CONFIG_FILE": os.devnull,
    "AWS_SHARED_CREDENTIALS_FILE": os.devnull,
}


# -- statistics ---------------------------------------------------------------------------------------
def median(values: Sequence[float]) -> float:
    return statistics.median(values)


def percentile(values: Sequence[float], q: float) -> float:
    """Nearest-rank percentile, q in [0, 100]."""
    ordered = sorted(values)
    if not ordered:
        raise ValueError("no values")
    rank = max(1, math.ceil(q / 100 * len(ordered)))
    return ordered[min(rank, len(ordered)) - 1]


def p99(values: Sequence[float]) -> float:
    return percentile(values, 99)


def ms(seconds: float) -> str:
    return f"{seconds * 1000:8.2f} ms"


def machine() -> str:
    """CPU count and load, printed with every figure: other work on the machine skews them."""
    load = ", ".join(f"{x:.1f}" for x in os.getloadavg())
    return f"{os.cpu_count()} CPUs, load average {load}"


def verdict(value: float, target: float) -> str:
    return f"target <= {target:g}: {'MET' if value <= target else 'MISSED'}"


# -- DynamoDB Local, table, identities, settings ------------------------------------------------------
@contextmanager
def dynamodb_local() -> Iterator[Any]:
    """An in-memory DynamoDB Local for the duration of the block."""
    from infra import dynamodb_local as launcher

    local = launcher.start()
    try:
        yield local
    finally:
        local.stop()


def unique_table_name(prefix: str = "bench") -> str:
    return f"{prefix}-{uuid.uuid4().hex[:8]}"


def create_table(client: Any, table_name: str) -> str:
    from infra.table import create_table as create

    create(client, table_name)
    return table_name


def make_idp() -> Any:
    from api.dev_idp import DevIdentityProvider

    return DevIdentityProvider(ISSUER, audience=AUDIENCE)


def make_settings(endpoint: str, table_name: str, idp: Any, tenant: str = TENANT, **kw: Any) -> Any:
    from api.settings import Settings

    return Settings(table_name=table_name, region=REGION, dynamodb_endpoint=endpoint,
                    issuers=(idp.issuer_settings(tenant),), default_tenant=tenant, **kw)


def lambda_env(endpoint: str, table_name: str, idp: Any | None = None, tenant: str = TENANT) -> dict[str, str]:
    """The environment api.settings.from_env reads on Lambda, pointed at a local endpoint and table."""
    env = dict(OFFLINE_AWS_ENV)
    env.update({"KIZUNA_TABLE": table_name, "KIZUNA_DYNAMODB_ENDPOINT": endpoint, "KIZUNA_DEFAULT_TENANT": tenant,
                "KIZUNA_ENV": "production", "POWERTOOLS_SERVICE_NAME": "kizuna"})
    if idp is not None:
        from api.dev_idp import ROLE_GROUPS  # staff groups, for the screens staff use (moderation, check-in)

        env["KIZUNA_ISSUERS"] = json.dumps([{"issuer": idp.issuer, "tenant": tenant, "audience": idp.audience,
                                             "jwks": idp.jwks, "role_map": ROLE_GROUPS}])
    return env


# Child processes keep their bytecode here (ignored by git via *.pyc): every module then loads from a
# current .pyc, as in a deployment that ships bytecode, even where PYTHONDONTWRITEBYTECODE is set or a
# source file changed since its __pycache__ entry was written; nothing is written outside bench/.
PYCACHE = ROOT / "bench" / ".pycache"


def child_env(extra: dict[str, str]) -> dict[str, str]:
    """os.environ for a child process, minus anything that could change what it imports or how."""
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("KIZUNA_", "AWS_", "POWERTOOLS_")) and k not in (
               "PYTHONPATH", "PYTHONSTARTUP", "PYTHONPROFILEIMPORTTIME", "PYTHONDONTWRITEBYTECODE",
               "PYTHONPYCACHEPREFIX", "PYTHONNODEBUGRANGES", "PYTHONDEVMODE", "PYTHONTRACEMALLOC",
               "PYTHONOPTIMIZE", "PYTHONWARNINGS", "PYTHONHOME", "PYTHONSAFEPATH")}
    env["PYTHONPYCACHEPREFIX"] = str(PYCACHE)
    env.update(extra)
    return env


def seed_member(tenant: str = TENANT, member_id: str | None = None, name: str = "Bench Member") -> str:
    """Enroll a member through infra.members.Members (the models must already be bound to the table)."""
    from domain import members as rules
    from infra.members import Members

    member_id = member_id or f"m-{uuid.uuid4().hex[:10]}"
    now = datetime.now(timezone.utc)
    Members(tenant).enroll(member_id, rules.Enrollment(name, f"{member_id}@example.com", None, False),
                           now.isoformat(), int(now.timestamp()))
    return member_id


def raw_client(endpoint: str) -> Any:
    """A plain boto3 DynamoDB client: the baseline every API figure is compared to."""
    import boto3

    return boto3.client("dynamodb", endpoint_url=endpoint, region_name=REGION,
                        aws_access_key_id="local", aws_secret_access_key="local")


# -- Lambda events ------------------------------------------------------------------------------------
@dataclass
class LambdaContext:
    """The attributes of the Lambda context object that Mangum and Powertools read."""

    aws_request_id: str
    function_name: str = "kizuna-api"
    function_version: str = "$LATEST"
    memory_limit_in_mb: int = 1024
    invoked_function_arn: str = "arn:aws:lambda:us-east-1:123456789012:function:kizuna-api"
    log_group_name: str = "/aws/lambda/kizuna-api"
    log_stream_name: str = "2025/01/01/[$LATEST]0123456789abcdef"

    def get_remaining_time_in_millis(self) -> int:
        return 10_000


def http_api_event(body: bytes | str = b"", **kwargs: Any) -> dict[str, Any]:
    """An API Gateway HTTP API (payload format 2.0) event, as API Gateway sends it."""
    return aws_events.http_api_event(body, user_agent="bench", **kwargs)


def graphql_body(query: str, variables: dict[str, Any] | None = None) -> bytes:
    return json.dumps({"query": query, "variables": variables or {}}).encode()


def response_json(response: dict[str, Any]) -> Any:
    raw = base64.b64decode(response["body"]) if response.get("isBase64Encoded") else response["body"]
    return json.loads(raw)


# -- DynamoDB call counter ----------------------------------------------------------------------------
class DynamoCallCounter:
    """Counts the DynamoDB API calls (and HTTP attempts) a botocore client makes, from its own events.

    Register it on the shared client (`services.dynamodb`, the one bind_table returns): every model and
    repository goes through that client, so every call of a request is seen.
    """

    def __init__(self, client: Any):
        self.client = client
        self.calls: list[str] = []
        self.attempts = 0
        self.wire: list[float] = []  # send -> parsed response, per API call
        self.last_params: dict[str, dict[str, Any]] = {}  # operation -> the API parameters of its last call
        self._sent = 0.0
        self._uid = f"bench-counter-{id(self)}"
        events = client.meta.events
        events.register("before-call.dynamodb.*", self._before_call, unique_id=f"{self._uid}-call")
        events.register("before-send.dynamodb.*", self._before_send, unique_id=f"{self._uid}-send")
        events.register("after-call.dynamodb.*", self._after_call, unique_id=f"{self._uid}-after")
        events.register("before-parameter-build.dynamodb.*", self._params, unique_id=f"{self._uid}-params")

    def _params(self, params: dict[str, Any], model: Any = None, **_: Any) -> None:
        if model is not None:
            self.last_params[model.name] = copy.deepcopy(params)

    def _before_call(self, model: Any = None, **_: Any) -> None:
        self.calls.append(model.name if model is not None else "?")

    def _before_send(self, **_: Any) -> None:  # must return None: a value would replace the HTTP call
        self.attempts += 1
        self._sent = time.perf_counter()

    def _after_call(self, **_: Any) -> None:
        if self._sent:
            self.wire.append(time.perf_counter() - self._sent)
            self._sent = 0.0

    def reset(self) -> None:
        self.calls, self.attempts, self.wire = [], 0, []

    @property
    def count(self) -> int:
        return len(self.calls)

    def close(self) -> None:
        events = self.client.meta.events
        events.unregister("before-call.dynamodb.*", unique_id=f"{self._uid}-call")
        events.unregister("before-send.dynamodb.*", unique_id=f"{self._uid}-send")
        events.unregister("after-call.dynamodb.*", unique_id=f"{self._uid}-after")
        events.unregister("before-parameter-build.dynamodb.*", unique_id=f"{self._uid}-params")


def timed(fn: Callable[[], Any]) -> float:
    t = time.perf_counter()
    fn()
    return time.perf_counter() - t


def interleave(fns: dict[str, Callable[[], Any]], iterations: int, warmup: int = 0) -> dict[str, list[float]]:
    """Time each function once per round, rotating the order every round so no path always goes first."""
    names = list(fns)
    for _ in range(warmup):
        for name in names:
            fns[name]()
    times: dict[str, list[float]] = {name: [] for name in names}
    for i in range(iterations):
        k = i % len(names)
        for name in names[k:] + names[:k]:
            times[name].append(timed(fns[name]))
    return times
