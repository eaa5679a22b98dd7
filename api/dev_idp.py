"""A local identity provider for dev and tests: an ES256 key pair that signs member, staff, service and partner tokens."""
from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

from api.settings import IssuerSettings

ROLE_GROUPS = {"kizuna-admins": "admin", "kizuna-moderators": "moderator", "kizuna-event-staff": "event-staff"}
SERVICE_SCOPE = "kizuna/orders"
PARTNER_SCOPE = "partner:member-status"


class DevIdentityProvider:
    def __init__(self, issuer: str, audience: str = "kizuna", kid: str = "dev-1",
                 private_key: ec.EllipticCurvePrivateKey | None = None):
        self.issuer = issuer
        self.audience = audience
        self.kid = kid
        self.private_key = private_key or ec.generate_private_key(ec.SECP256R1())

    @classmethod
    def load_or_create(cls, path: Path, issuer: str, audience: str = "kizuna") -> "DevIdentityProvider":
        if path.exists():
            key = serialization.load_pem_private_key(path.read_bytes(), password=None)
            assert isinstance(key, ec.EllipticCurvePrivateKey)
        else:
            key = ec.generate_private_key(ec.SECP256R1())
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                               serialization.NoEncryption()))
            path.chmod(0o600)
        return cls(issuer, audience, private_key=key)

    @property
    def jwks(self) -> dict[str, Any]:
        public = json.loads(jwt.algorithms.ECAlgorithm.to_jwk(self.private_key.public_key()))
        public.update({"kid": self.kid, "use": "sig", "alg": "ES256"})
        return {"keys": [public]}

    def issuer_settings(self, tenant: str) -> IssuerSettings:
        return IssuerSettings(issuer=self.issuer, tenant=tenant, audience=self.audience, jwks=self.jwks,
                              role_map=ROLE_GROUPS, service_scope=SERVICE_SCOPE, partner_scope=PARTNER_SCOPE)

    def token(self, sub: str, ttl: int = 3600, **claims: Any) -> str:
        now = int(time.time())
        body = {"iss": self.issuer, "aud": self.audience, "sub": sub, "iat": now, "exp": now + ttl, **claims}
        return jwt.encode(body, self.private_key, algorithm="ES256", headers={"kid": self.kid})

    def member_token(self, member_id: str, ttl: int = 3600, *, email: str | None = None,
                     email_verified: bool = True) -> str:
        """A member's token; with `email`, the IdP's email claim (verified unless said otherwise)."""
        if email is None:
            return self.token(member_id, ttl)
        return self.token(member_id, ttl, email=email, email_verified=email_verified)

    def staff_token(self, sub: str, *groups: str, ttl: int = 3600, email: str | None = None) -> str:
        """A staff token; with `email`, the IdP's verified email claim."""
        extra = {"email": email, "email_verified": True} if email else {}
        return self.token(sub, ttl, groups=list(groups or ("kizuna-admins",)), **extra)

    def service_token(self, client_id: str = "order-system", ttl: int = 3600) -> str:
        return self.token(client_id, ttl, scope=SERVICE_SCOPE, client_id=client_id)

    def partner_token(self, partner: str, ttl: int = 3600) -> str:
        return self.token(partner, ttl, scope=PARTNER_SCOPE, client_id=partner)
