"""Server configuration, read from the environment once per container (and nowhere else).

The secret parts (webhook secrets, cursor key, issuers) come from SSM Parameter Store when the environment
names their parameters; see api/secrets.py."""
from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from typing import Any, Mapping

from api.secrets import ParameterStore, SecretsError, load as load_secrets


@dataclass(frozen=True)
class IssuerSettings:
    """One identity provider of one tenant. Tokens it signs act within `tenant` only."""

    issuer: str
    tenant: str
    audience: str
    jwks_url: str | None = None  # production: keys from the IdP's JWKS endpoint
    jwks: Mapping[str, Any] | None = None  # dev and tests: a local public key set
    groups_claim: str = "groups"  # signed claim carrying the IdP groups of staff
    email_claim: str = "email"  # signed claim with the member's email ...
    email_verified_claim: str = "email_verified"  # ... which counts only when this claim is true
    role_map: Mapping[str, str] = field(default_factory=dict)  # IdP group -> admin|moderator|event-staff
    service_scope: str = "kizuna/orders"
    partner_scope: str = "partner:member-status"


@dataclass(frozen=True)
class Settings:
    env: str = "production"  # "dev" turns on GraphiQL, introspection and field suggestions
    table_name: str = "kizuna"
    region: str = "us-east-1"
    dynamodb_endpoint: str | None = None
    issuers: tuple[IssuerSettings, ...] = ()
    stage_tenants: Mapping[str, str] = field(default_factory=dict)  # API stage -> tenant for anonymous calls
    default_tenant: str | None = None
    # tenant -> HMAC secret: a plain dict locally and in tests; in AWS an api.secrets.WebhookSecrets that
    # reads through the SSM parameter cache, so a rotation is picked up without a redeploy.
    # repr=False: a logged Settings must not carry secrets.
    webhook_secrets: Mapping[str, str] = field(default_factory=dict, repr=False)
    # Key of the connection cursors (AES-GCM). None: a random key per container, so cursors only
    # work within one container; every deployment sets one (SSM in AWS, the environment locally).
    cursor_secret: str | None = field(default=None, repr=False)
    # Events out: the EventBridge bus every published event goes to (none: webhooks only), the SQS queue
    # dead-lettered deliveries are told to, and an endpoint for both (moto's server in tests; AWS when None).
    event_bus_name: str | None = None
    webhook_dead_letter_queue_url: str | None = None
    aws_endpoint: str | None = None
    jwt_leeway_seconds: int = 30
    jwks_refetch_interval_seconds: float = 60.0
    max_body_bytes: int = 64 * 1024
    # Signed webhooks carry whole orders (a large one is well over 64 KiB); refusing one with a 4xx
    # would only make the sender retry it for two days.
    max_webhook_body_bytes: int = 1024 * 1024

    def body_cap(self, path: str) -> int:
        return self.max_webhook_body_bytes if path.startswith("/webhooks/") else self.max_body_bytes
    max_depth: int = 10
    max_aliases: int = 15
    max_tokens: int = 2000
    program_cache_seconds: float = 30.0

    @property
    def dev(self) -> bool:
        return self.env == "dev"

    @property
    def tenants(self) -> tuple[str, ...]:
        """Every tenant this deployment serves (scheduled jobs run for each)."""
        found = [i.tenant for i in self.issuers] + list(self.stage_tenants.values())
        if self.default_tenant:
            found.append(self.default_tenant)
        return tuple(dict.fromkeys(found))


def from_env(environ: Mapping[str, str] | None = None, *, parameters: ParameterStore | None = None) -> Settings:
    """Settings from the environment; the secrets from the SSM parameters it names (read now, through
    `parameters` or the container's store) or from their plain variables. Raises SecretsError at init."""
    env = os.environ if environ is None else environ

    def js(name: str, default: Any) -> Any:
        raw = env.get(name)
        return json.loads(raw) if raw else default

    secret = load_secrets(env, parameters)
    try:
        issuers = tuple(IssuerSettings(**i) for i in secret.issuers)
    except TypeError as e:  # an unknown or missing key; the message names keys, never values
        raise SecretsError(f"KIZUNA_ISSUERS: an issuer has unknown or missing keys: {e}") from None
    return Settings(
        env=env.get("KIZUNA_ENV", "production"),
        table_name=env.get("KIZUNA_TABLE", "kizuna"),
        region=env.get("AWS_REGION", env.get("AWS_DEFAULT_REGION", "us-east-1")),
        dynamodb_endpoint=env.get("KIZUNA_DYNAMODB_ENDPOINT") or None,
        issuers=issuers,
        stage_tenants=js("KIZUNA_STAGE_TENANTS", {}),
        default_tenant=env.get("KIZUNA_DEFAULT_TENANT") or None,
        webhook_secrets=secret.webhook_secrets,
        cursor_secret=secret.cursor_secret,
        event_bus_name=env.get("KIZUNA_EVENT_BUS") or None,
        webhook_dead_letter_queue_url=env.get("KIZUNA_WEBHOOK_DLQ_URL") or None,
        aws_endpoint=env.get("KIZUNA_AWS_ENDPOINT") or None,
    )
