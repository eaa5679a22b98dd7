"""Bearer tokens: what is refused (401, no data), what a token may claim, and how JWKS keys are cached."""
from __future__ import annotations

import base64
import hashlib
import hmac
import json
import threading
import time
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Iterator

import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

from api.auth import JwksKeys, TokenVerifier, Unauthenticated
from api.dev_idp import DevIdentityProvider
from api.settings import IssuerSettings, Settings
from domain.access import Kind
from tests.support import GraphQLClient, Result

ME = "{ me { id } }"
MEMBERS = "{ members(first: 1) { edges { cursor } } }"
LEEWAY = 30  # seconds of clock skew tolerated on exp (Settings.jwt_leeway_seconds)


# -- building tokens by hand --------------------------------------------------------------------
def b64url(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def b64url_json(obj: Any) -> str:
    return b64url(json.dumps(obj, separators=(",", ":")).encode())


def unb64url(part: str) -> bytes:
    return base64.urlsafe_b64decode(part + "=" * (-len(part) % 4))


def claims_for(idp: DevIdentityProvider, **overrides: Any) -> dict[str, Any]:
    """Claims a good member token carries; an override of None drops that claim."""
    now = int(time.time())
    base = {"iss": idp.issuer, "aud": idp.audience, "sub": f"m-{uuid.uuid4().hex[:10]}",
            "iat": now - 60, "exp": now + 3600}
    base.update(overrides)
    return {k: v for k, v in base.items() if v is not None}


def signed(idp: DevIdentityProvider, claims: dict[str, Any], *, kid: str | None = None,
           key: ec.EllipticCurvePrivateKey | None = None, headers: dict[str, Any] | None = None) -> str:
    return jwt.encode(claims, key or idp.private_key, algorithm="ES256",
                      headers={"kid": kid or idp.kid, **(headers or {})})


def hs256_with(secret: bytes, idp: DevIdentityProvider) -> str:
    """The classic key-confusion forgery: HMAC over the token with the public key as the secret.

    pyjwt refuses to HMAC-sign with a PEM key, which is exactly what an attacker would not care about,
    so the token is assembled by hand.
    """
    signing_input = f"{b64url_json({'alg': 'HS256', 'typ': 'JWT', 'kid': idp.kid})}.{b64url_json(claims_for(idp))}"
    mac = hmac.new(secret, signing_input.encode(), hashlib.sha256).digest()
    return f"{signing_input}.{b64url(mac)}"


def public_pem(idp: DevIdentityProvider) -> bytes:
    return idp.private_key.public_key().public_bytes(serialization.Encoding.PEM,
                                                     serialization.PublicFormat.SubjectPublicKeyInfo)


def with_claims_changed(token: str, **changes: Any) -> str:
    """Edit the payload after signing, keeping the original header and signature."""
    header, payload, signature = token.split(".")
    claims = json.loads(unb64url(payload))
    claims.update(changes)
    return f"{header}.{b64url_json(claims)}.{signature}"


def assert_unauthenticated(r: Result) -> None:
    assert r.status == 401, r.body
    assert r.error_codes() == ["UNAUTHENTICATED"]
    assert "data" not in r.body


def call(client: GraphQLClient, authorization: str, query: str = ME,
         headers: dict[str, str] | None = None) -> Result:
    return client.raw(json.dumps({"query": query}).encode(),
                      headers={"authorization": authorization, **(headers or {})})


# -- what is refused ----------------------------------------------------------------------------
@pytest.mark.parametrize("alg", ["none", "None", "NONE"])
def test_an_unsigned_alg_none_token_is_refused(client, idp, alg):
    token = f"{b64url_json({'alg': alg, 'typ': 'JWT', 'kid': idp.kid})}.{b64url_json(claims_for(idp))}."
    assert_unauthenticated(call(client, f"Bearer {token}"))


@pytest.mark.parametrize("secret", ["pem", "jwk"])
def test_hs256_signed_with_the_public_key_as_hmac_secret_is_refused(client, idp, secret):
    key_bytes = public_pem(idp) if secret == "pem" else json.dumps(idp.jwks["keys"][0]).encode()
    assert_unauthenticated(call(client, f"Bearer {hs256_with(key_bytes, idp)}"))


@pytest.mark.parametrize("claim", ["exp", "iat", "sub"])
def test_a_token_missing_a_required_claim_is_refused(client, idp, claim):
    token = signed(idp, claims_for(idp, **{claim: None}))
    assert claim not in jwt.decode(token, options={"verify_signature": False})
    assert_unauthenticated(call(client, f"Bearer {token}"))


def test_a_token_expired_beyond_the_leeway_is_refused(client, idp):
    now = int(time.time())
    token = signed(idp, claims_for(idp, iat=now - 3600, exp=now - LEEWAY - 15))
    assert_unauthenticated(call(client, f"Bearer {token}"))


def test_a_token_expired_within_the_leeway_is_still_accepted(client, idp):
    now = int(time.time())
    token = signed(idp, claims_for(idp, iat=now - 3600, exp=now - LEEWAY + 15))
    r = call(client, f"Bearer {token}")
    assert r.status == 200, r.body
    assert r.body == {"data": {"me": None}}


@pytest.mark.parametrize("iss", ["https://evil.test/tenant-a", "https://idp.test/tenant-a/", ""])
def test_a_token_from_an_untrusted_issuer_is_refused(client, idp, iss):
    assert_unauthenticated(call(client, f"Bearer {signed(idp, claims_for(idp, iss=iss))}"))


def test_a_token_naming_another_tenants_issuer_but_signed_with_this_tenants_key_is_refused(client, idp, other_idp):
    # Tenant b's issuer only trusts tenant b's keys: tenant a's key cannot mint tenant b principals.
    assert_unauthenticated(call(client, f"Bearer {signed(idp, claims_for(idp, iss=other_idp.issuer))}"))


@pytest.mark.parametrize("aud", ["another-app", ["another-app"], "kizuna"])
def test_a_token_for_another_audience_is_refused(client, idp, aud):
    assert_unauthenticated(call(client, f"Bearer {signed(idp, claims_for(idp, aud=aud))}"))


def test_a_token_whose_payload_was_changed_after_signing_is_refused(client, idp):
    victim = f"m-{uuid.uuid4().hex[:10]}"
    token = idp.member_token(f"m-{uuid.uuid4().hex[:10]}")
    assert call(client, f"Bearer {token}").status == 200  # the untouched token is good
    assert_unauthenticated(call(client, f"Bearer {with_claims_changed(token, sub=victim)}"))


def test_a_token_with_an_unknown_kid_is_refused(client, idp):
    assert_unauthenticated(call(client, f"Bearer {signed(idp, claims_for(idp), kid='dev-unknown')}"))


def test_a_token_signed_by_another_key_under_the_right_kid_is_refused(client, idp):
    impostor = ec.generate_private_key(ec.SECP256R1())
    assert_unauthenticated(call(client, f"Bearer {signed(idp, claims_for(idp), key=impostor, kid=idp.kid)}"))


@pytest.mark.parametrize("garbage", ["garbage", "a.b.c", "eyJhbGciOiJFUzI1NiJ9..", "e30.e30.e30", "....."])
def test_a_garbage_bearer_token_is_refused(client, garbage):
    assert_unauthenticated(call(client, f"Bearer {garbage}"))


@pytest.mark.parametrize("scheme", ["Basic", "Token", "JWT", ""])
def test_a_non_bearer_authorization_header_is_refused_even_with_a_good_token(client, idp, scheme):
    token = idp.member_token(f"m-{uuid.uuid4().hex[:10]}")
    authorization = f"{scheme} {token}" if scheme else token
    assert_unauthenticated(call(client, authorization))


def test_a_bearer_header_without_a_token_is_refused(client):
    for authorization in ("Bearer", "Bearer ", "Bearer    "):
        assert_unauthenticated(call(client, authorization))


def signed_raw(idp: DevIdentityProvider, claims: dict[str, Any]) -> str:
    """Sign claims pyjwt would refuse to encode (a non-string `iss`, say): a real IdP could still send them."""
    signing_input = f"{b64url_json({'alg': 'ES256', 'typ': 'JWT', 'kid': idp.kid})}.{b64url_json(claims)}"
    signature = jwt.algorithms.ECAlgorithm(jwt.algorithms.ECAlgorithm.SHA256).sign(signing_input.encode(),
                                                                                   idp.private_key)
    return f"{signing_input}.{b64url(signature)}"


@pytest.mark.parametrize("bad", [{"iss": ["https://idp.test/tenant-a"]}, {"iss": {"a": 1}}, {"iss": 7},
                                 {"aud": 5}, {"aud": [["kizuna-test"]]}, {"aud": [{"x": 1}]}])
def test_a_token_with_a_malformed_iss_or_aud_is_refused_not_a_server_error(client, idp, bad):
    # Chosen before any signature is checked, so anyone can send these: they must be a 401, never a 500.
    assert_unauthenticated(call(client, f"Bearer {signed_raw(idp, claims_for(idp, **bad))}"))
    forged = f"{b64url_json({'alg': 'ES256', 'kid': idp.kid})}.{b64url_json(claims_for(idp, **bad))}.c2ln"
    assert_unauthenticated(call(client, f"Bearer {forged}"))


@pytest.mark.parametrize("bad", [{"groups": 5}, {"groups": [["kizuna-admins"]]}, {"scope": 5},
                                 {"scope": ["kizuna/orders", ["x"]]}, {"groups": {"kizuna-admins": True}}])
def test_a_signed_token_with_malformed_groups_or_scope_is_refused_not_a_server_error(client, idp, bad):
    assert_unauthenticated(call(client, f"Bearer {signed_raw(idp, claims_for(idp, **bad))}", MEMBERS))


# -- what a token may claim ---------------------------------------------------------------------
def test_a_staff_token_whose_groups_are_not_in_the_role_map_acts_as_a_member(client, idp, services):
    token = idp.staff_token(f"staff-{uuid.uuid4().hex[:6]}", "kizuna-marketing", "admins")
    principal = services.verifier.verify(token)
    assert principal.kind is Kind.MEMBER and principal.roles == frozenset()
    listing = call(client, f"Bearer {token}", MEMBERS)
    assert listing.error_codes() == ["FORBIDDEN"]
    assert listing.data is None
    assert call(client, f"Bearer {token}", ME).body == {"data": {"me": None}}  # a member's view, not staff's


def test_roles_come_only_from_the_signed_groups_claim(client, idp, services):
    sub = f"staff-{uuid.uuid4().hex[:6]}"
    elsewhere = claims_for(idp, sub=sub, roles=["admin"], role="admin", **{
        "cognito:groups": ["kizuna-admins"], "custom:groups": "kizuna-admins", "realm_access": {"roles": ["admin"]}})
    token = signed(idp, elsewhere, headers={"groups": ["kizuna-admins"]})  # even a signed header is not the claim
    assert services.verifier.verify(token).kind is Kind.MEMBER
    r = call(client, f"Bearer {token}", MEMBERS, headers={"x-kizuna-role": "admin", "x-groups": "kizuna-admins"})
    assert r.error_codes() == ["FORBIDDEN"]

    # Adding the groups claim after signing does not make an admin: the token is refused outright.
    assert_unauthenticated(call(client, f"Bearer {with_claims_changed(token, groups=['kizuna-admins'])}", MEMBERS))

    # The same caller with the groups claim signed in is staff: the check above was not vacuous.
    genuine = signed(idp, claims_for(idp, sub=sub, groups=["kizuna-admins"]))
    ok = call(client, f"Bearer {genuine}", MEMBERS)
    assert ok.status == 200 and not ok.errors, ok.body


# -- JWKS from the identity provider's URL ------------------------------------------------------
class JwksServer:
    """A real HTTP server on 127.0.0.1 serving a JWKS document and counting requests."""

    def __init__(self, jwks: dict[str, Any]):
        self.jwks = jwks
        self.requests = 0
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802 - http.server's naming
                outer.requests += 1
                body = json.dumps(outer.jwks).encode()
                self.send_response(200)
                self.send_header("content-type", "application/json")
                self.send_header("content-length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args: Any) -> None:
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}/.well-known/jwks.json"
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    def __enter__(self) -> "JwksServer":
        self.thread.start()
        return self

    def __exit__(self, *exc: Any) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


INTERVAL = 60.0


@pytest.fixture
def jwks_idp() -> DevIdentityProvider:
    return DevIdentityProvider(f"https://idp.test/jwks-{uuid.uuid4().hex[:6]}", audience="kizuna-test", kid="k-1")


@pytest.fixture
def jwks_server(jwks_idp: DevIdentityProvider) -> Iterator[JwksServer]:
    with JwksServer(jwks_idp.jwks) as server:
        yield server


@pytest.fixture
def fake_clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def jwks_verifier(jwks_idp, jwks_server, fake_clock) -> TokenVerifier:
    issuer = IssuerSettings(issuer=jwks_idp.issuer, tenant="t-jwks", audience=jwks_idp.audience,
                            jwks_url=jwks_server.url)
    keys = JwksKeys(jwks_server.url, INTERVAL, clock=fake_clock)
    return TokenVerifier(Settings(issuers=(issuer,)), key_sources={jwks_idp.issuer: keys})


def test_jwks_keys_are_fetched_once_and_cached_across_many_verifications(jwks_verifier, jwks_idp, jwks_server):
    assert jwks_server.requests == 0  # nothing is fetched before the first token
    for i in range(25):
        principal = jwks_verifier.verify(jwks_idp.member_token(f"m-cache-{i}"))
        assert principal.subject == f"m-cache-{i}" and principal.tenant == "t-jwks"
    assert jwks_server.requests == 1


def test_a_settings_jwks_url_builds_a_verifier_that_fetches_from_it(jwks_idp, jwks_server):
    issuer = IssuerSettings(issuer=jwks_idp.issuer, tenant="t-jwks", audience=jwks_idp.audience,
                            jwks_url=jwks_server.url)
    verifier = TokenVerifier(Settings(issuers=(issuer,)))
    for _ in range(3):
        assert verifier.verify(jwks_idp.member_token("m-from-url")).kind is Kind.MEMBER
    assert jwks_server.requests == 1


def test_unknown_kids_trigger_at_most_one_refetch_per_interval(jwks_verifier, jwks_idp, jwks_server, fake_clock):
    jwks_verifier.verify(jwks_idp.member_token("m-warm"))
    assert jwks_server.requests == 1
    stranger = ec.generate_private_key(ec.SECP256R1())

    def unknown_kid_token(n: int) -> str:
        return signed(jwks_idp, claims_for(jwks_idp), key=stranger, kid=f"k-unknown-{n}")

    with pytest.raises(Unauthenticated):
        jwks_verifier.verify(unknown_kid_token(0))
    assert jwks_server.requests == 2  # the first unknown kid may refetch once

    for n in range(1, 30):  # a flood of random kids inside the interval costs no further fetches
        fake_clock.now += 1
        with pytest.raises(Unauthenticated):
            jwks_verifier.verify(unknown_kid_token(n))
    assert jwks_server.requests == 2

    fake_clock.now += INTERVAL  # a new interval: one more refetch, then quiet again
    for n in range(30, 40):
        with pytest.raises(Unauthenticated):
            jwks_verifier.verify(unknown_kid_token(n))
    assert jwks_server.requests == 3

    assert jwks_verifier.verify(jwks_idp.member_token("m-still-good")).subject == "m-still-good"
    assert jwks_server.requests == 3  # known kids keep coming from the cache


def test_a_rotated_signing_key_is_picked_up_after_the_refetch_interval(jwks_verifier, jwks_idp, jwks_server,
                                                                      fake_clock):
    jwks_verifier.verify(jwks_idp.member_token("m-before"))
    with pytest.raises(Unauthenticated):  # a stray unknown kid uses this interval's refetch
        jwks_verifier.verify(signed(jwks_idp, claims_for(jwks_idp), kid="k-stray"))
    assert jwks_server.requests == 2

    rotated = DevIdentityProvider(jwks_idp.issuer, audience=jwks_idp.audience, kid="k-2")
    jwks_server.jwks = {"keys": jwks_idp.jwks["keys"] + rotated.jwks["keys"]}  # the IdP publishes k-2

    fake_clock.now += INTERVAL / 2
    with pytest.raises(Unauthenticated):  # still inside the interval: the new kid is not fetched yet
        jwks_verifier.verify(rotated.member_token("m-rotated"))
    assert jwks_server.requests == 2

    fake_clock.now += INTERVAL
    assert jwks_verifier.verify(rotated.member_token("m-rotated")).subject == "m-rotated"
    assert jwks_server.requests == 3
    for _ in range(5):  # both the old and new keys now come from the cache
        jwks_verifier.verify(rotated.member_token("m-rotated"))
        jwks_verifier.verify(jwks_idp.member_token("m-before"))
    assert jwks_server.requests == 3


def test_an_unreachable_jwks_endpoint_refuses_tokens_instead_of_failing(jwks_idp, fake_clock):
    with JwksServer(jwks_idp.jwks) as server:
        url = server.url
    issuer = IssuerSettings(issuer=jwks_idp.issuer, tenant="t-jwks", audience=jwks_idp.audience, jwks_url=url)
    verifier = TokenVerifier(Settings(issuers=(issuer,)),
                             key_sources={jwks_idp.issuer: JwksKeys(url, INTERVAL, clock=fake_clock)})
    with pytest.raises(Unauthenticated):
        verifier.verify(jwks_idp.member_token("m-offline"))


def test_a_verified_token_is_remembered_but_never_past_its_expiry(services, idp, monkeypatch):
    """The signature of a repeated token is checked once; after `exp` (plus leeway) it is refused."""
    import jwt as pyjwt

    from api.auth import TokenVerifier

    now = [1_000_000.0]
    verifier = TokenVerifier(services.settings, clock=lambda: now[0])
    token = idp.token("m-cache", ttl=60)
    real_decode = pyjwt.decode
    decodes = []

    def counting(*a, **k):
        decodes.append(1)
        return real_decode(*a, **k)

    monkeypatch.setattr(pyjwt, "decode", counting)
    claims = real_decode(token, options={"verify_signature": False})
    now[0] = claims["iat"]
    first = verifier.verify(token)
    seen = len(decodes)
    for _ in range(5):
        assert verifier.verify(token) == first
    assert len(decodes) == seen
    # Past exp + leeway the cache no longer answers: the token goes through full verification again
    # (which, in real time, rejects an expired token: see the expiry tests above).
    now[0] = claims["exp"] + services.settings.jwt_leeway_seconds + 1
    verifier.verify(token)
    assert len(decodes) > seen
