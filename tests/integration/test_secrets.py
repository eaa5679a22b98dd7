"""Secrets come from SSM Parameter Store SecureStrings, read once per container and cached with a TTL.

AWS ships no local SSM, so these run against moto in server mode (a separate process on 127.0.0.1; the
test process never imports moto, so nothing of it can leak into other tests). moto stores a SecureString
encrypted ("kms:alias/aws/ssm:<value>") and decrypts only on WithDecryption, as SSM does.
"""
from __future__ import annotations

import json
import os
import subprocess
import sys
import time
import uuid
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Iterator

import boto3
import pytest

from api import secrets, snapstart
from api.auth import TokenVerifier
from api.runtime import Services
from api.secrets import ParameterStore, SecretsError, WebhookSecrets
from api.settings import Settings, from_env
from infra.cursors import CursorCodec
from infra.points.program_store import ProgramCache
from tests.support import moto_server

ROOT = Path(__file__).resolve().parents[2]
REGION = "us-east-1"
ISSUERS = [{"issuer": "https://idp.example/t1", "tenant": "t1", "audience": "kizuna",
            "jwks_url": "https://idp.example/t1/jwks.json"}]


@pytest.fixture(scope="module")
def ssm_endpoint() -> Iterator[str]:
    with moto_server() as endpoint:
        yield endpoint


def ssm_client(endpoint: str) -> Any:
    return boto3.client("ssm", endpoint_url=endpoint, region_name=REGION,
                        aws_access_key_id="test", aws_secret_access_key="test")


@pytest.fixture
def ssm(ssm_endpoint: str) -> Any:
    return ssm_client(ssm_endpoint)


class Calls:
    """Counts the reads (GetParameter, GetParameters) a client makes; the tests' own writes do not count."""

    def __init__(self, client: Any):
        self.n = 0
        client.meta.events.register("before-call.ssm.GetParameters", self._count)
        client.meta.events.register("before-call.ssm.GetParameter", self._count)

    def _count(self, **_: Any) -> None:
        self.n += 1


@pytest.fixture
def names(ssm: Any) -> dict[str, str]:
    """Fresh parameters under a unique prefix: webhook secrets, cursor key, issuers."""
    prefix = f"/kizuna/test-{uuid.uuid4().hex[:8]}"
    found = {"KIZUNA_WEBHOOK_SECRETS": f"{prefix}/webhook-secrets", "KIZUNA_CURSOR_SECRET": f"{prefix}/cursor-secret",
             "KIZUNA_ISSUERS": f"{prefix}/issuers"}
    values = {"KIZUNA_WEBHOOK_SECRETS": json.dumps({"t1": "hmac-one"}), "KIZUNA_CURSOR_SECRET": "cursor-key-one",
              "KIZUNA_ISSUERS": json.dumps(ISSUERS)}
    for var, name in found.items():
        ssm.put_parameter(Name=name, Value=values[var], Type="SecureString")
    return found


def parameter_env(names: dict[str, str], **extra: str) -> dict[str, str]:
    env = {f"{var}_PARAMETER": name for var, name in names.items()}
    env.update(AWS_REGION=REGION, KIZUNA_TABLE="kizuna-test", **extra)
    return env


def store(ssm: Any, max_age: float = 300) -> ParameterStore:
    return ParameterStore(max_age, client=ssm)


# --- loading ------------------------------------------------------------------------------------

def test_settings_come_from_the_ssm_parameters_the_environment_names(ssm: Any, names: dict[str, str]) -> None:
    settings = from_env(parameter_env(names), parameters=store(ssm))
    assert settings.webhook_secrets["t1"] == "hmac-one"  # decrypted: moto keeps "kms:alias/aws/ssm:..." otherwise
    assert dict(settings.webhook_secrets) == {"t1": "hmac-one"}
    assert settings.cursor_secret == "cursor-key-one"
    assert [(i.issuer, i.tenant, i.jwks_url) for i in settings.issuers] == [
        ("https://idp.example/t1", "t1", "https://idp.example/t1/jwks.json")]
    assert settings.tenants == ("t1",)


def test_plain_environment_values_still_work_locally_without_ssm() -> None:
    settings = from_env({"KIZUNA_WEBHOOK_SECRETS": '{"t1": "local"}', "KIZUNA_CURSOR_SECRET": "k",
                         "KIZUNA_ISSUERS": json.dumps(ISSUERS)})
    assert settings.webhook_secrets == {"t1": "local"}
    assert isinstance(settings.webhook_secrets, dict)
    assert settings.cursor_secret == "k"
    assert settings.issuers[0].tenant == "t1"
    assert from_env({}).webhook_secrets == {} and from_env({}).cursor_secret is None


def test_every_parameter_is_read_at_init_in_one_call_and_then_served_from_the_cache(
        ssm: Any, names: dict[str, str]) -> None:
    calls = Calls(ssm)
    settings = from_env(parameter_env(names), parameters=store(ssm))
    assert calls.n == 1  # one GetParameters for all three
    for _ in range(50):
        assert settings.webhook_secrets.get("t1") == "hmac-one"
        assert settings.webhook_secrets.get("nobody") is None
    assert calls.n == 1


def test_a_rotated_webhook_secret_is_used_once_the_cache_expires_without_a_redeploy(
        ssm: Any, names: dict[str, str]) -> None:
    calls = Calls(ssm)
    settings = from_env(parameter_env(names), parameters=store(ssm, max_age=1))
    assert settings.webhook_secrets["t1"] == "hmac-one"
    ssm.put_parameter(Name=names["KIZUNA_WEBHOOK_SECRETS"], Value=json.dumps({"t1": "hmac-two", "t2": "new"}),
                      Type="SecureString", Overwrite=True)
    assert settings.webhook_secrets["t1"] == "hmac-one"  # within the max age: the cached value
    assert calls.n == 1
    time.sleep(1.2)
    assert settings.webhook_secrets["t1"] == "hmac-two"
    assert settings.webhook_secrets.get("t2") == "new"
    assert calls.n == 2


def test_a_missing_parameter_stops_init_with_its_name_and_variable(ssm: Any, names: dict[str, str]) -> None:
    missing = dict(names, KIZUNA_CURSOR_SECRET=f"/kizuna/test-{uuid.uuid4().hex[:8]}/nope")
    with pytest.raises(SecretsError) as e:
        from_env(parameter_env(missing), parameters=store(ssm))
    assert missing["KIZUNA_CURSOR_SECRET"] in str(e.value)
    assert "KIZUNA_CURSOR_SECRET_PARAMETER" in str(e.value)
    assert names["KIZUNA_ISSUERS"] not in str(e.value)  # the ones that exist are not blamed


def test_a_malformed_parameter_stops_init_without_printing_its_value(ssm: Any, names: dict[str, str]) -> None:
    ssm.put_parameter(Name=names["KIZUNA_WEBHOOK_SECRETS"], Value='["leaky-secret"]', Type="SecureString",
                      Overwrite=True)
    with pytest.raises(SecretsError, match="JSON object of tenant") as e:
        from_env(parameter_env(names), parameters=store(ssm))
    assert "leaky-secret" not in str(e.value)


def test_a_secret_set_both_as_a_value_and_as_a_parameter_is_refused(ssm: Any, names: dict[str, str]) -> None:
    with pytest.raises(SecretsError, match="KIZUNA_WEBHOOK_SECRETS set both"):
        from_env(parameter_env(names, KIZUNA_WEBHOOK_SECRETS='{"t1": "plain"}'), parameters=store(ssm))


def test_when_a_refresh_fails_the_last_good_webhook_secrets_are_kept_and_ssm_is_not_hammered(
        ssm: Any, names: dict[str, str]) -> None:
    settings = from_env(parameter_env(names), parameters=store(ssm, max_age=0.2))
    assert settings.webhook_secrets["t1"] == "hmac-one"
    ssm.delete_parameter(Name=names["KIZUNA_WEBHOOK_SECRETS"])
    time.sleep(0.3)
    calls = Calls(ssm)
    for _ in range(5):
        assert settings.webhook_secrets["t1"] == "hmac-one"
    assert calls.n == 1  # one failed refresh, then the last good map until the retry time
    ssm.put_parameter(Name=names["KIZUNA_WEBHOOK_SECRETS"], Value=json.dumps({"t1": "back"}), Type="SecureString")
    time.sleep(0.3)  # the retry waits min(30 s, max age)
    assert settings.webhook_secrets["t1"] == "back"


def test_settings_never_show_secrets_in_their_repr(ssm: Any, names: dict[str, str]) -> None:
    settings = from_env(parameter_env(names), parameters=store(ssm))
    assert "hmac-one" not in repr(settings) and "cursor-key-one" not in repr(settings)
    assert repr(settings.webhook_secrets) == f"WebhookSecrets(parameter={names['KIZUNA_WEBHOOK_SECRETS']!r})"
    local = Settings(webhook_secrets={"t": "local-secret"}, cursor_secret="local-key")
    assert "local-secret" not in repr(local) and "local-key" not in repr(local)


# --- the Lambda handler, as Lambda starts it -----------------------------------------------------

def _handler_import(ssm_endpoint: str, env: dict[str, str]) -> subprocess.CompletedProcess:
    probe = ("import api.lambda_handler as h\n"
             "s = h.services.settings\n"
             "print(s.webhook_secrets.get('t1'), s.cursor_secret, [i.tenant for i in s.issuers])\n")
    child = {k: v for k, v in os.environ.items() if not k.startswith(("KIZUNA_", "AWS_"))}
    child.update(env, AWS_ENDPOINT_URL_SSM=ssm_endpoint, AWS_ACCESS_KEY_ID="test", AWS_SECRET_ACCESS_KEY="test",
                 AWS_EC2_METADATA_DISABLED="true", KIZUNA_ENV="production")
    return subprocess.run([sys.executable, "-c", probe], cwd=ROOT, env=child, capture_output=True, text=True,
                          timeout=120)


def test_the_lambda_handler_reads_its_secrets_from_ssm_at_init(ssm_endpoint: str, names: dict[str, str]) -> None:
    run = _handler_import(ssm_endpoint, parameter_env(names))
    assert run.returncode == 0, run.stderr[-2000:]
    assert run.stdout.split("\n")[0] == "hmac-one cursor-key-one ['t1']"


def test_the_lambda_handler_fails_at_init_when_a_parameter_is_missing(ssm_endpoint: str,
                                                                      names: dict[str, str]) -> None:
    gone = dict(names, KIZUNA_WEBHOOK_SECRETS="/kizuna/test-missing/webhook-secrets")
    run = _handler_import(ssm_endpoint, parameter_env(gone))
    assert run.returncode != 0
    last = run.stderr.strip().splitlines()[-1]
    assert last.startswith("api.secrets.SecretsError: cannot start:"), run.stderr[-2000:]
    assert "KIZUNA_WEBHOOK_SECRETS_PARAMETER=/kizuna/test-missing/webhook-secrets" in last


# --- after a SnapStart restore -------------------------------------------------------------------

def services_of(settings: Settings) -> Services:
    """What init builds from the settings, minus the table and the schema (the hook does not touch them)."""
    return Services(settings=settings, dynamodb=None, verifier=TokenVerifier(settings), schema=None,
                    programs=ProgramCache(30), cursors=CursorCodec(settings.cursor_secret))  # type: ignore[arg-type]


def test_after_a_restore_secrets_are_read_again_at_once_not_after_the_ttl(
        ssm: Any, names: dict[str, str], monkeypatch: pytest.MonkeyPatch) -> None:
    shared = store(ssm, max_age=3600)
    monkeypatch.setattr(secrets, "_default", shared)  # the container's store, which the hook resets
    env = parameter_env(names)
    settings = from_env(env)
    services = services_of(settings)
    before = services.verifier, services.cursors
    ssm.put_parameter(Name=names["KIZUNA_WEBHOOK_SECRETS"], Value=json.dumps({"t1": "rotated"}),
                      Type="SecureString", Overwrite=True)
    ssm.put_parameter(Name=names["KIZUNA_CURSOR_SECRET"], Value="cursor-key-two", Type="SecureString", Overwrite=True)
    ssm.put_parameter(Name=names["KIZUNA_ISSUERS"], Type="SecureString", Overwrite=True,
                      Value=json.dumps([dict(ISSUERS[0], jwks_url="https://idp.example/t1/other-jwks.json")]))
    assert settings.webhook_secrets["t1"] == "hmac-one"  # cached for an hour

    calls = Calls(ssm)
    snapstart.after_restore(services, lambda: from_env(env))
    assert calls.n == 1  # the restore read every parameter again, once
    assert settings.webhook_secrets["t1"] == "rotated"  # the object the webhooks hold sees it too
    assert services.settings.webhook_secrets["t1"] == "rotated"
    assert services.settings.issuers[0].jwks_url == "https://idp.example/t1/other-jwks.json"
    assert services.verifier is not before[0]  # rebuilt for the new issuers
    assert services.settings.cursor_secret == "cursor-key-two"
    now = datetime.now(timezone.utc)
    sealed = CursorCodec("cursor-key-two").seal({"PK": {"S": "x"}}, "list", now)
    assert services.cursors is not before[1] and services.cursors.open(sealed, "list", now) == {"PK": {"S": "x"}}


def test_a_restore_fails_loudly_when_a_parameter_was_deleted_since_the_snapshot(
        ssm: Any, names: dict[str, str], monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(secrets, "_default", store(ssm))
    env = parameter_env(names)
    settings = from_env(env)
    services = services_of(settings)
    ssm.delete_parameter(Name=names["KIZUNA_ISSUERS"])
    with pytest.raises(SecretsError, match="KIZUNA_ISSUERS_PARAMETER"):
        snapstart.after_restore(services, lambda: from_env(env))


def test_webhook_secrets_is_a_read_only_mapping_for_the_webhooks(ssm: Any, names: dict[str, str]) -> None:
    found = WebhookSecrets(store(ssm), names["KIZUNA_WEBHOOK_SECRETS"], {})
    assert "t1" in found and len(found) == 1 and list(found) == ["t1"]
    with pytest.raises(TypeError):
        found["t1"] = "x"  # type: ignore[index]
