"""`make run`'s command line and what it prints: the port from PORT or --port, loopback unless told
otherwise, and only tokens that something in the API accepts."""
from __future__ import annotations

import re

import jwt
import pytest

from api.dev_idp import PARTNER_SCOPE, DevIdentityProvider
from api.local import banner, parse_args


def test_the_port_comes_from_the_port_variable():
    assert parse_args([], {"PORT": "8080"}).port == 8080


def test_the_port_option_wins_over_the_port_variable():
    assert parse_args(["--port", "9001"], {"PORT": "8080"}).port == 9001


def test_without_either_the_server_listens_on_loopback_port_8000():
    # HOST is ignored on purpose: some shells export it as the machine's name.
    args = parse_args([], {"HOST": "my-laptop.example", "PORT": ""})
    assert (args.host, args.port) == ("127.0.0.1", 8000)


@pytest.mark.parametrize("value", ["abc", "0", "65536", "-1", "80.5"])
def test_a_port_that_is_not_one_is_refused_with_its_value(value, capsys):
    with pytest.raises(SystemExit) as exit_:
        parse_args([], {"PORT": value})
    assert exit_.value.code == 2
    assert f"not a port number (1-65535): {value!r}" in capsys.readouterr().err


def test_the_help_documents_the_port_variable(capsys):
    with pytest.raises(SystemExit):
        parse_args(["--help"], {})
    out = capsys.readouterr().out
    assert "PORT" in out and "PORT=8080 make run" in out


def test_the_banner_says_graphiql_holds_the_member_token_and_prints_the_demo_partners_token():
    idp = DevIdentityProvider("http://127.0.0.1:8080/dev-idp")
    text = banner("http://127.0.0.1:8080", "http://127.0.0.1:8001", idp)
    assert "GraphiQL: open http://127.0.0.1:8080/graphql" in text
    assert "Headers tab already holds demo-member-1's token" in text
    tokens = re.findall(r"eyJ[\w-]+\.[\w-]+\.[\w-]+", text)
    claims = [jwt.decode(t, idp.private_key.public_key(), algorithms=["ES256"], audience="kizuna") for t in tokens]
    subjects = [c["sub"] for c in claims]
    assert subjects[0] == "demo-member-1" and subjects[2:] == ["staff-admin", "order-system", "demo-partner"]
    assert subjects[1].startswith("new-member-")  # the not-enrolled shopper
    # Only the demo partner's token carries the partner scope, with the client id the demo registers.
    partner = [c for c in claims if PARTNER_SCOPE in c.get("scope", "")]
    assert [(c["sub"], c["client_id"]) for c in partner] == [("demo-partner", "demo-partner")]


def test_the_not_enrolled_member_is_a_new_one_at_each_start():
    idp = DevIdentityProvider("http://127.0.0.1:8000/dev-idp")

    def new_member() -> str:
        line = next(row for row in banner("http://b", "http://d", idp).splitlines() if "not enrolled" in row)
        token = line.split(":", 1)[1].strip()
        return jwt.decode(token, idp.private_key.public_key(), algorithms=["ES256"], audience="kizuna")["sub"]

    assert new_member() != new_member()
