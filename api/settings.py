"""Server configuration, read from the environment once per container (and nowhere else)."""
from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from typing import Any, Mapping


@dataclass(frozen=True)
class IssuerSettings:
    """One identity provider of one tenant. Tokens it signs act within `tenant` only."""

    issuer: str
    tenant: str
    audience: str
    jwks_url: str | None = None  # production: keys from the IdP's JWKS endpoint
    jwks: Mapping[str, Any] | None = None  # dev and tests: a local public key set
    groups_claim: str = "groups"  # signed claim carrying the IdP groups of staff
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
    webhook_secrets: Mapping[str, str] = field(default_factory=dict)  # tenant -> HMAC secret
    jwt_leeway_seconds: int = 30
    jwks_refetch_interval_seconds: float = 60.0
    max_body_bytes: int = 64 * 1024
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


def from_env(environ: Mapping[str, str] | None = None) -> Settings:
    env = os.environ if environ is None else environ

    def js(name: str, default: Any) -> Any:
        raw = env.get(name)
        return json.loads(raw) if raw else default

    issuers = tuple(IssuerSettings(**i) for i in js("KIZUNA_ISSUERS", []))
    return Settings(
        env=env.get("KIZUNA_ENV", "production"),
        table_name=env.get("KIZUNA_TABLE", "kizuna"),
        region=env.get("AWS_REGION", env.get("AWS_DEFAULT_REGION", "us-east-1")),
        dynamodb_endpoint=env.get("KIZUNA_DYNAMODB_ENDPOINT") or None,
        issuers=issuers,
        stage_tenants=js("KIZUNA_STAGE_TENANTS", {}),
        default_tenant=env.get("KIZUNA_DEFAULT_TENANT") or None,
        webhook_secrets=js("KIZUNA_WEBHOOK_SECRETS", {}),
    )
