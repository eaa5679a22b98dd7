"""Secrets: SSM Parameter Store SecureStrings in AWS, plain environment values locally.

Three values are secret: the webhook HMAC secrets (`KIZUNA_WEBHOOK_SECRETS`, a JSON map tenant -> secret),
the cursor key (`KIZUNA_CURSOR_SECRET`) and the issuer configuration (`KIZUNA_ISSUERS`, a JSON list). In AWS
the Lambda environment carries only the NAME of each one's parameter (`KIZUNA_WEBHOOK_SECRETS_PARAMETER=
/kizuna/prod/webhook-secrets`): anyone who may read a function's configuration reads its environment, and
a value there changes only with a deploy. Locally and in tests the plain variables work as before.

Every named parameter is read at init, in one GetParameters call, decrypted, and kept for
`KIZUNA_SECRETS_MAX_AGE_SECONDS` (default 300) by Powertools' parameters cache. A parameter that is missing,
unreadable or malformed stops the container at init with its name (`SecretsError`), never a 500 per
request. Webhook secrets are looked up through the cache on every webhook (`WebhookSecrets`), so a rotated
secret is in use within the max age, without a redeploy.
"""
from __future__ import annotations

import json
import logging
import threading
import time
from dataclasses import dataclass
from typing import Any, Callable, Iterator, Mapping

log = logging.getLogger("kizuna.secrets")

WEBHOOK_SECRETS = "KIZUNA_WEBHOOK_SECRETS"
CURSOR_SECRET = "KIZUNA_CURSOR_SECRET"
ISSUERS = "KIZUNA_ISSUERS"
SECRET_VARIABLES = (WEBHOOK_SECRETS, CURSOR_SECRET, ISSUERS)
PARAMETER_SUFFIX = "_PARAMETER"  # KIZUNA_ISSUERS_PARAMETER names the parameter that holds KIZUNA_ISSUERS
MAX_AGE_VARIABLE = "KIZUNA_SECRETS_MAX_AGE_SECONDS"
DEFAULT_MAX_AGE_SECONDS = 300.0
# How Powertools turns each parameter's text into a value (cached after the transform, so a lookup does
# not parse JSON again).
_TRANSFORMS: dict[str, str | None] = {WEBHOOK_SECRETS: "json", ISSUERS: "json", CURSOR_SECRET: None}


class SecretsError(RuntimeError):
    """A configured secret is missing, unreadable or malformed. Raised at init: the container must not start.
    Messages name parameters and variables, never values."""

    def __init__(self, message: str, failed: list[str] | None = None):
        super().__init__(message)
        self.failed = failed or []  # the parameter names that could not be read


def _webhook_map(value: Any, where: str) -> dict[str, str]:
    if not isinstance(value, dict) or not all(isinstance(k, str) and isinstance(v, str) and v
                                              for k, v in value.items()):
        raise SecretsError(f"{where} must be a JSON object of tenant -> non-empty secret string")
    return value


def _issuer_list(value: Any, where: str) -> list[dict[str, Any]]:
    if not isinstance(value, list) or not all(isinstance(i, dict) for i in value):
        raise SecretsError(f"{where} must be a JSON list of issuer objects")
    return value


def _cursor_key(value: Any, where: str) -> str:
    if not isinstance(value, str) or not value:
        raise SecretsError(f"{where} must be a non-empty string")
    return value


_CHECKS = {WEBHOOK_SECRETS: _webhook_map, ISSUERS: _issuer_list, CURSOR_SECRET: _cursor_key}


class ParameterStore:
    """SecureString parameters through Powertools' SSMProvider: decrypted, cached for `max_age` seconds,
    each miss of a read fetched in one GetParameters call. One per container (`default_store`)."""

    def __init__(self, max_age: float = DEFAULT_MAX_AGE_SECONDS, *, region: str | None = None,
                 client: Any = None):
        self.max_age = max_age
        self._region = region
        self._client = client  # tests pass a client pointed at their SSM; AWS builds one on first use
        self._provider: Any = None
        self._lock = threading.Lock()

    @property
    def provider(self) -> Any:
        if self._provider is None:
            # Imported here: Powertools' parameters package pulls in boto3, and a deployment without
            # parameters (local runs, tests, the benchmark) should not pay for it at init.
            from aws_lambda_powertools.utilities.parameters import SSMProvider
            self._provider = SSMProvider(boto3_client=self._client or _ssm_client(self._region))
        return self._provider

    def read(self, names: Mapping[str, str | None]) -> dict[str, Any]:
        """{parameter name: transform} -> {parameter name: value}; cached ones from the cache."""
        if not names:
            return {}
        with self._lock:  # one refresh at a time: concurrent webhooks after expiry make one call, not many
            try:
                values = self.provider.get_parameters_by_name(
                    {name: {"transform": transform} for name, transform in names.items()},
                    decrypt=True, max_age=self.max_age, raise_on_error=False)
            except Exception as e:  # noqa: BLE001 - botocore and Powertools errors alike; none carries a value
                raise SecretsError(f"could not read SSM parameters {sorted(names)}: {type(e).__name__}: {e}",
                                   sorted(names)) from e
        # raise_on_error=False: Powertools lists what failed (missing, not decryptable, malformed) under
        # "_errors" instead of raising for some of those and silently leaving others out.
        failed = sorted(set(values.pop("_errors", [])) | {n for n in names if values.get(n) is None})
        if failed:
            raise SecretsError(f"SSM parameter(s) {failed}: missing, not decryptable or not valid JSON", failed)
        return values

    def reset(self) -> None:
        """Forget every cached value and drop the SSM client's connections (after a SnapStart restore)."""
        if self._provider is not None:
            self._provider.clear_cache()
            close_connections(self._provider.client)


def _ssm_client(region: str | None) -> Any:
    # A botocore client is what SSMProvider calls (boto3's client is one); building it directly skips
    # boto3's Session. AWS_ENDPOINT_URL_SSM, which botocore reads, points it elsewhere (tests: moto).
    import botocore.session
    from botocore.config import Config
    return botocore.session.get_session().create_client(
        "ssm", region_name=region, config=Config(connect_timeout=2, read_timeout=3,
                                                 retries={"max_attempts": 3, "mode": "standard"}))


def close_connections(client: Any) -> None:
    """Empty a botocore client's HTTP connection pool; the next request opens a new connection."""
    http_session = getattr(getattr(client, "_endpoint", None), "http_session", None)
    if http_session is not None:
        http_session.close()  # URLLib3Session.close(): clears the pool managers, which stay usable


_default: ParameterStore | None = None
_default_lock = threading.Lock()


def default_store(env: Mapping[str, str]) -> ParameterStore:
    """The container's one parameter store (one cache, one SSM client), built on first use."""
    global _default
    with _default_lock:
        if _default is None:
            raw = env.get(MAX_AGE_VARIABLE)
            try:
                max_age = float(raw) if raw else DEFAULT_MAX_AGE_SECONDS
            except ValueError:
                raise SecretsError(f"{MAX_AGE_VARIABLE} must be a number of seconds") from None
            _default = ParameterStore(max_age, region=env.get("AWS_REGION", env.get("AWS_DEFAULT_REGION")))
        return _default


def reset() -> None:
    """After a SnapStart restore: the cache and connections of the container's store are the snapshot's."""
    if _default is not None:
        _default.reset()


class WebhookSecrets(Mapping[str, str]):
    """tenant -> webhook HMAC secret, read through the parameter cache at every lookup: a rotated secret
    is used within the cache's max age. When a refresh fails (SSM unreachable, the parameter deleted or
    broken) the last good map is used and the failure logged, and the next try waits RETRY_SECONDS: an SSM
    outage must neither refuse every webhook nor make each one wait out the client's timeouts."""

    RETRY_SECONDS = 30.0

    def __init__(self, store: ParameterStore, parameter: str, first: Mapping[str, str],
                 clock: Callable[[], float] = time.monotonic):
        self._store = store
        self.parameter = parameter
        self._last_good = dict(first)
        self._clock = clock
        self._retry_at = float("-inf")

    def current(self) -> Mapping[str, str]:
        if self._clock() < self._retry_at:
            return self._last_good
        try:
            value = self._store.read({self.parameter: "json"})[self.parameter]
            self._last_good = _webhook_map(value, f"SSM parameter {self.parameter}")
        except SecretsError as e:
            self._retry_at = self._clock() + min(self.RETRY_SECONDS, self._store.max_age)
            log.error("webhook secrets not refreshed, using the last good ones: %s", e)
        return self._last_good

    def __getitem__(self, tenant: str) -> str:
        return self.current()[tenant]

    def __iter__(self) -> Iterator[str]:
        return iter(self.current())

    def __len__(self) -> int:
        return len(self.current())

    def __repr__(self) -> str:  # never the secrets
        return f"WebhookSecrets(parameter={self.parameter!r})"


@dataclass(frozen=True)
class Loaded:
    webhook_secrets: Mapping[str, str]
    cursor_secret: str | None
    issuers: list[dict[str, Any]]


def load(env: Mapping[str, str], store: ParameterStore | None = None) -> Loaded:
    """Each secret from the SSM parameter `<VAR>_PARAMETER` names, else from `<VAR>` itself, else its default.
    Every named parameter is read now, in one call: a missing one raises SecretsError here, at init."""
    named = {var: env[var + PARAMETER_SUFFIX] for var in SECRET_VARIABLES if env.get(var + PARAMETER_SUFFIX)}
    both = [var for var in named if env.get(var)]
    if both:
        raise SecretsError(f"{', '.join(both)} set both as a value and as {PARAMETER_SUFFIX}: "
                           "in AWS the environment names the parameter only; locally set the value alone")
    values: dict[str, Any] = {}
    if named:
        store = store or default_store(env)
        try:
            read = store.read({name: _TRANSFORMS[var] for var, name in named.items()})
        except SecretsError as e:
            which = ", ".join(f"{var}{PARAMETER_SUFFIX}={name}" for var, name in named.items() if name in e.failed)
            raise SecretsError(f"cannot start: {e} (configured by {which}). Create each as a SecureString "
                               "parameter, or fix the name or the function's ssm:GetParameters permission",
                               e.failed) from e
        for var, name in named.items():
            values[var] = _CHECKS[var](read[name], f"SSM parameter {name} ({var}{PARAMETER_SUFFIX})")
    for var in SECRET_VARIABLES:
        raw = env.get(var)
        if var in named or not raw:
            continue
        try:
            value = json.loads(raw) if _TRANSFORMS[var] == "json" else raw
        except ValueError:
            raise SecretsError(f"{var} is not valid JSON") from None
        values[var] = _CHECKS[var](value, var)

    webhooks: Mapping[str, str] = values.get(WEBHOOK_SECRETS, {})
    if WEBHOOK_SECRETS in named:
        assert store is not None
        webhooks = WebhookSecrets(store, named[WEBHOOK_SECRETS], webhooks)
    return Loaded(webhook_secrets=webhooks, cursor_secret=values.get(CURSOR_SECRET),
                  issuers=values.get(ISSUERS, []))
