"""A copy restored from a SnapStart snapshot shares nothing that must be its own (api/snapstart.py).

A restored copy is modelled by os.fork(): each child starts with the parent's memory exactly as it was,
as every container restored from one snapshot starts with the memory of the one init. The parent builds
the state (init), forks two children, each runs the restore hook (or not) and sends back what it drew.
"""
from __future__ import annotations

import json
import os
import random
import secrets as stdlib_secrets
import subprocess
import sys
from pathlib import Path
from typing import Any, Callable, Iterator

import botocore.session
import pytest
from jwt import PyJWKSet

from api import snapstart
from api.auth import JwksKeys, TokenVerifier
from api.dev_idp import DevIdentityProvider
from api.runtime import Services
from api.settings import IssuerSettings, Settings
from infra import ids
from infra.cursors import CursorCodec
from infra.points.program_store import ProgramCache

ROOT = Path(__file__).resolve().parents[2]
AT_MS = 1_800_000_000_000  # ids drawn at one fixed millisecond: only their random bits can differ


def offline_services(settings: Settings | None = None) -> Services:
    """Services as init builds them, without binding the shared models or touching a network."""
    settings = settings or Settings()
    client = botocore.session.get_session().create_client(
        "dynamodb", region_name="us-east-1", endpoint_url="http://127.0.0.1:9",
        aws_access_key_id="x", aws_secret_access_key="x")
    return Services(settings=settings, dynamodb=client, verifier=TokenVerifier(settings), schema=None,
                    programs=ProgramCache(30), cursors=CursorCodec(settings.cursor_secret))  # type: ignore[arg-type]


def draw() -> dict[str, Any]:
    return {"ulids": [ids.new_ulid(at_ms=AT_MS) for _ in range(3)], "random": random.random(),
            "jitter": random.uniform(0, 0.005), "coupon": stdlib_secrets.token_hex(8)}


def restored_copies(services: Services, run_hook: bool, n: int = 2) -> list[dict[str, Any]]:
    """What each of `n` copies of this process's memory draws, after the restore hook when `run_hook`."""
    out = []
    snapshot = random.getstate()
    for _ in range(n):
        read, write = os.pipe()
        pid = os.fork()
        if pid == 0:  # the restored copy
            os.close(read)
            code = 0
            try:
                # CPython reseeds `random` in a forked child (os.register_at_fork); a snapshot restore
                # does not: put back the state the memory had.
                random.setstate(snapshot)
                if run_hook:
                    snapstart.after_restore(services)
                os.write(write, json.dumps(draw()).encode())
            except BaseException:  # noqa: BLE001 - the parent sees the failure as an empty answer
                code = 1
            finally:
                os._exit(code)
        os.close(write)
        with os.fdopen(read, "rb") as pipe:
            answer = pipe.read()
        _, status = os.waitpid(pid, 0)
        assert status == 0 and answer, "a restored copy failed"
        out.append(json.loads(answer))
    return out


def _prng_seeded_at_init() -> Callable[[int], bytes]:
    random.seed(20261201)  # what an init that seeds a PRNG leaves in the snapshot
    return random.randbytes


ENTROPY: dict[str, Callable[[], Callable[[int], bytes] | None]] = {
    "kernel generator (os.urandom, today)": lambda: None,
    "a PRNG seeded at init": _prng_seeded_at_init,
}


@pytest.fixture
def fork_safe() -> Iterator[None]:
    if not hasattr(os, "fork"):
        pytest.skip("no os.fork on this platform")
    state = random.getstate()
    yield
    random.setstate(state)


@pytest.mark.parametrize("entropy", ENTROPY)
def test_two_restored_copies_generate_different_ids_and_random_numbers(
        entropy: str, fork_safe: None, monkeypatch: pytest.MonkeyPatch) -> None:
    source = ENTROPY[entropy]()
    if source is not None:
        monkeypatch.setattr(ids, "_entropy", source)
    first, second = restored_copies(offline_services(), run_hook=True)
    assert set(first["ulids"]).isdisjoint(second["ulids"])
    assert first["random"] != second["random"] and first["jitter"] != second["jitter"]
    assert first["coupon"] != second["coupon"]


def test_without_the_hook_restored_copies_repeat_what_a_prng_seeded_at_init_draws(
        fork_safe: None, monkeypatch: pytest.MonkeyPatch) -> None:
    """The control: the fork model does reproduce the hazard the hook is for."""
    monkeypatch.setattr(ids, "_entropy", _prng_seeded_at_init())
    first, second = restored_copies(offline_services(), run_hook=False)
    assert first["ulids"] == second["ulids"]
    assert first["random"] == second["random"] and first["jitter"] == second["jitter"]
    assert first["coupon"] != second["coupon"]  # `secrets` reads the kernel: safe without the hook


def test_ids_read_the_kernel_generator_not_a_prng() -> None:
    assert ids._entropy is os.urandom


def test_the_hook_empties_the_token_cache(idp: DevIdentityProvider) -> None:
    services = offline_services(Settings(issuers=(idp.issuer_settings("t1"),)))
    services.verifier.verify(idp.member_token("m-snap-1"))
    assert len(services.verifier._verified) == 1
    snapstart.after_restore(services)
    assert services.verifier._verified == {}


def test_the_hook_forgets_jwks_key_sets_and_their_refetch_clock() -> None:
    issuer = IssuerSettings(issuer="https://idp.example/t1", tenant="t1", audience="kizuna",
                            jwks_url="https://idp.example/t1/jwks.json")
    services = offline_services(Settings(issuers=(issuer,)))
    keys = services.verifier._issuers[(issuer.issuer, issuer.audience)].keys
    assert isinstance(keys, JwksKeys)
    idp = DevIdentityProvider(issuer.issuer, audience="kizuna")
    keys._client.jwk_set_cache.put(PyJWKSet.from_dict(idp.jwks))  # as a fetch at init would leave it
    keys._client._last_successful_fetch = 123.0
    keys._last_refetch = 456.0
    snapstart.after_restore(services)
    assert keys._client.jwk_set_cache.get() is None
    assert keys._client._last_successful_fetch is None
    assert keys._last_refetch == float("-inf")


def test_the_hook_closes_the_pooled_dynamodb_connections(services: Services) -> None:
    services.dynamodb.list_tables(Limit=1)  # DynamoDB Local: a connection is now pooled
    manager = services.dynamodb._endpoint.http_session._manager
    assert len(manager.pools) > 0
    snapstart.after_restore(services)
    assert len(manager.pools) == 0
    services.dynamodb.list_tables(Limit=1)  # and the client still works, on a new connection


def test_the_hook_forgets_cached_programs() -> None:
    services = offline_services()
    services.programs._entries["t1"] = object()  # type: ignore[assignment]  # as a load at init would
    snapstart.after_restore(services)
    assert services.programs._entries == {}


def test_the_lambda_handler_registers_the_restore_hook_at_init() -> None:
    probe = ("import api.lambda_handler as h, snapshot_restore_py as s, api.snapstart as snap\n"
             "hooks = [(f, a) for f, a, _ in s.get_after_restore()]\n"
             "print(any(f is snap.after_restore and a[0] is h.services for f, a in hooks))\n")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("KIZUNA_", "AWS_"))}
    env.update(KIZUNA_TABLE="kizuna-test", AWS_REGION="us-east-1", AWS_ACCESS_KEY_ID="x",
               AWS_SECRET_ACCESS_KEY="x", AWS_EC2_METADATA_DISABLED="true")
    run = subprocess.run([sys.executable, "-c", probe], cwd=ROOT, env=env, capture_output=True, text=True,
                         timeout=120)
    assert run.returncode == 0, run.stderr[-2000:]
    assert run.stdout.strip().splitlines()[-1] == "True"
