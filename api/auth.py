"""Bearer tokens to principals: pinned algorithms, required claims, audience, issuer -> tenant."""
from __future__ import annotations

import threading
import time
from typing import Any, Callable, Mapping, Protocol

import jwt
from jwt import PyJWK, PyJWKClient, PyJWKSet

from api.settings import IssuerSettings, Settings
from domain.access import Kind, Principal, Role
from domain.members import valid_member_id, vouched_email

ALGORITHMS = ("RS256", "ES256")
REQUIRED_CLAIMS = ["exp", "iat", "iss", "sub", "aud"]


class Unauthenticated(Exception):
    """The token is missing something, forged, expired or from an issuer we do not trust."""


class KeySource(Protocol):
    def key_for(self, kid: str | None) -> PyJWK: ...


class StaticKeys:
    """A fixed public key set (dev and tests)."""

    def __init__(self, jwks: Mapping[str, Any]):
        self._set = PyJWKSet.from_dict(dict(jwks))

    def key_for(self, kid: str | None) -> PyJWK:
        for key in self._set.keys:
            if key.key_id == kid:
                return key
        raise Unauthenticated("unknown signing key")


class JwksKeys:
    """Keys from the IdP's JWKS URL, cached; an unknown kid refetches at most once per interval."""

    def __init__(self, url: str, refetch_interval: float, clock: Callable[[], float] = time.monotonic,
                 client: PyJWKClient | None = None):
        self._client = client or PyJWKClient(url, cache_jwk_set=True, lifespan=3600, timeout=3)
        self._interval = refetch_interval
        self._clock = clock
        self._last_refetch = float("-inf")
        self._lock = threading.Lock()

    def key_for(self, kid: str | None) -> PyJWK:
        try:
            key = self._find(self._client.get_jwk_set(), kid)
            if key:
                return key
            with self._lock:
                now = self._clock()
                if now - self._last_refetch < self._interval:
                    raise Unauthenticated("unknown signing key")
                self._last_refetch = now
            key = self._find(self._client.get_jwk_set(refresh=True), kid)
        except jwt.PyJWKClientError as e:
            raise Unauthenticated("signing keys unavailable") from e
        if key is None:
            raise Unauthenticated("unknown signing key")
        return key

    def clear_cache(self) -> None:
        """Forget the fetched key set and the refetch clock (after a SnapStart restore: the snapshot may be
        days old, and its monotonic readings mean nothing in the restored copy)."""
        with self._lock:
            self._last_refetch = float("-inf")
        cache = getattr(self._client, "jwk_set_cache", None)
        if cache is not None:
            cache.put(None)
        if hasattr(self._client, "_last_successful_fetch"):  # PyJWKClient's own refetch cooldown
            self._client._last_successful_fetch = None

    @staticmethod
    def _find(jwk_set: PyJWKSet, kid: str | None) -> PyJWK | None:
        return next((k for k in jwk_set.keys if k.key_id == kid), None)


class _Issuer:
    def __init__(self, config: IssuerSettings, keys: KeySource):
        self.config = config
        self.keys = keys
        self.role_map = {group: Role(role) for group, role in config.role_map.items()}


class TokenVerifier:
    """Verifies bearer tokens. A verified token is remembered (by its whole signed text) for at most
    CACHE_SECONDS and never past its `exp`, so a member app's repeated calls skip the signature check."""

    CACHE_SECONDS = 300
    CACHE_SIZE = 4096

    def __init__(self, settings: Settings, key_sources: Mapping[str, KeySource] | None = None,
                 clock: Callable[[], float] = time.time):
        self._leeway = settings.jwt_leeway_seconds
        self._clock = clock
        self._verified: dict[str, tuple[Principal, float]] = {}  # token -> (principal, good until)
        self._cache_lock = threading.Lock()
        self._issuers: dict[tuple[str, str], _Issuer] = {}
        for cfg in settings.issuers:
            if key_sources and cfg.issuer in key_sources:
                keys = key_sources[cfg.issuer]
            elif cfg.jwks is not None:
                keys = StaticKeys(cfg.jwks)
            elif cfg.jwks_url:
                keys = JwksKeys(cfg.jwks_url, settings.jwks_refetch_interval_seconds)
            else:
                raise ValueError(f"issuer {cfg.issuer} has neither jwks nor jwks_url")
            self._issuers[(cfg.issuer, cfg.audience)] = _Issuer(cfg, keys)

    def clear_caches(self) -> None:
        """Forget verified tokens and fetched signing keys (after a SnapStart restore)."""
        with self._cache_lock:
            self._verified.clear()
        for issuer in self._issuers.values():
            clear = getattr(issuer.keys, "clear_cache", None)
            if clear is not None:
                clear()

    def verify(self, token: str) -> Principal:
        now = self._clock()
        hit = self._verified.get(token)
        if hit is not None and now < hit[1]:
            return hit[0]
        principal, expires = self._verify(token)
        with self._cache_lock:
            if len(self._verified) >= self.CACHE_SIZE:
                self._verified.pop(next(iter(self._verified)))  # oldest first
            self._verified[token] = (principal, min(expires + self._leeway, now + self.CACHE_SECONDS))
        return principal

    def _verify(self, token: str) -> tuple[Principal, float]:
        try:
            header = jwt.get_unverified_header(token)
            if header.get("alg") not in ALGORITHMS:
                raise Unauthenticated("algorithm not allowed")
            unverified = jwt.decode(token, options={"verify_signature": False})
            issuer = self._issuer_for(unverified)
            key = issuer.keys.key_for(header.get("kid"))
            claims = jwt.decode(
                token, key, algorithms=list(ALGORITHMS), audience=issuer.config.audience,
                issuer=issuer.config.issuer, leeway=self._leeway,
                options={"require": REQUIRED_CLAIMS},
            )
        except Unauthenticated:
            raise
        except jwt.PyJWTError as e:
            raise Unauthenticated(type(e).__name__) from e
        return self._principal(issuer, claims), float(claims["exp"])

    def _issuer_for(self, claims: Mapping[str, Any]) -> _Issuer:
        # Read before the signature is checked: any shape may arrive, and none may become a 500.
        iss = claims.get("iss")
        auds = claims.get("aud")
        for aud in ([auds] if isinstance(auds, str) else auds if isinstance(auds, list) else []):
            found = self._issuers.get((iss, aud)) if isinstance(iss, str) and isinstance(aud, str) else None
            if found:
                return found
        raise Unauthenticated("untrusted issuer or audience")

    @staticmethod
    def _principal(issuer: _Issuer, claims: Mapping[str, Any]) -> Principal:
        cfg = issuer.config
        sub = str(claims["sub"])
        groups = _words(claims.get(cfg.groups_claim), cfg.groups_claim)
        roles = frozenset(issuer.role_map[g] for g in groups if g in issuer.role_map)
        scopes = frozenset(_words(claims.get("scope") or claims.get("scp"), "scope"))
        if roles:
            # Staff carry their vouched email too: it is how staff are told apart from their own member
            # account (no moderating one's own post, no checking in one's own ticket), never a binding.
            email = vouched_email(claims.get(cfg.email_claim), claims.get(cfg.email_verified_claim))
            return Principal(Kind.STAFF, cfg.tenant, sub, roles=roles, scopes=scopes, verified_email=email)
        if cfg.partner_scope in scopes:
            return Principal(Kind.PARTNER, cfg.tenant, str(claims.get("client_id") or sub), scopes=scopes)
        if cfg.service_scope in scopes:
            return Principal(Kind.SERVICE, cfg.tenant, sub, scopes=scopes)
        if not valid_member_id(sub):
            raise Unauthenticated("subject is not a usable member id")
        email = vouched_email(claims.get(cfg.email_claim), claims.get(cfg.email_verified_claim))
        return Principal(Kind.MEMBER, cfg.tenant, sub, verified_email=email)


def _words(value: Any, claim: str) -> list[str]:
    """A space-separated string or a list of strings; any other shape is a malformed token, not a 500."""
    if not value:
        return []
    if isinstance(value, str):
        return value.split()
    if isinstance(value, list) and all(isinstance(v, str) for v in value):
        return value
    raise Unauthenticated(f"malformed {claim} claim")
