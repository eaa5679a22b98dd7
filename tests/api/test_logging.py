"""Logs an operator can use: expected client errors are one INFO line, without a traceback; unexpected
errors are one ERROR line with the correlation id the client was given, the operation and the path;
no email, token or birthday in any line (tests/log_privacy.py checks every line of the test run)."""
from __future__ import annotations

import json
import logging
import os
import subprocess
import sys
import textwrap
import uuid
from pathlib import Path

import pytest

from infra.members import Members
from tests.log_privacy import PrivacyMatcher, birthdays_of_test_data, record_text
from tests.support import GraphQLClient

ROOT = Path(__file__).resolve().parents[2]


def test_expected_client_errors_are_logged_at_info_without_a_traceback(client, enrolled, caplog):
    with caplog.at_level(logging.INFO):
        client("{ members(first: 1) { edges { cursor } } }")  # sign in
        enrolled("{ members(first: 1) { edges { cursor } } }")  # forbidden
        enrolled("{ me { nope } }")  # validation
        enrolled('{ me { pointsHistory(after: "forged") { edges { cursor } } } }')  # bad cursor
        enrolled('mutation { rewardRedeem(rewardId: "no-such-reward") { userErrors { code } } }')
    noisy = [r for r in caplog.records if r.levelno >= logging.ERROR or r.exc_info]
    assert noisy == [], [(r.name, r.levelname, r.getMessage()) for r in noisy]
    lines = [r for r in caplog.records if r.name == "kizuna.graphql" and r.levelno == logging.INFO]
    assert len(lines) >= 4 and all(getattr(r, "correlation_id", None) for r in lines)


def logged_for(caplog: pytest.LogCaptureFixture, cid: str) -> list[logging.LogRecord]:
    return [r for r in caplog.records if getattr(r, "correlation_id", None) == cid or cid in r.getMessage()]


def send(c: GraphQLClient, query: str, variables: dict | None = None) -> tuple[str, dict]:
    """One request with a correlation id of its own, to find its log lines by."""
    cid = f"cid-{uuid.uuid4().hex}"
    return cid, c(query, variables, headers={"x-correlation-id": cid}).body


CLIENT_ERRORS = [  # (who, query, variables, code the line names)
    ("anonymous", "query Staff { members(first: 1) { edges { cursor } } }", None, "UNAUTHENTICATED"),
    ("member", "query Staff { members(first: 1) { edges { cursor } } }", None, "FORBIDDEN"),
    ("member", "query Typo { me { nope } }", None, "BAD_REQUEST"),
    ("member", "query Broken { me { id ", None, "GRAPHQL_PARSE_FAILED"),
    ("member", "query Count($n: Int!) { me { pointsHistory(first: $n) { edges { cursor } } } }", {"n": "many"},
     "BAD_REQUEST"),
    ("member", 'query Page { me { pointsHistory(after: "forged") { edges { cursor } } } }', None, "BAD_USER_INPUT"),
    ("admin", "query Zero { members(first: 0) { edges { cursor } } }", None, "OUT_OF_RANGE"),
    ("member", "query Named { me { id } }", {"operationName": "Other"}, "BAD_REQUEST"),
]


@pytest.mark.parametrize("who, query, variables, code", CLIENT_ERRORS,
                         ids=["unauthenticated", "forbidden", "validation", "parse", "coercion", "bad-cursor",
                              "domain-error", "unknown-operation"])
def test_each_expected_client_error_is_one_info_line_with_its_code_and_correlation_id(client, enrolled, admin,
                                                                                   caplog, who, query, variables,
                                                                                   code):
    caller = {"anonymous": client, "member": enrolled, "admin": admin}[who]
    if variables and "operationName" in variables:
        cid = f"cid-{uuid.uuid4().hex}"
        with caplog.at_level(logging.INFO):
            body = caller.raw(json.dumps({"query": query, **variables}).encode(),
                              headers={"x-correlation-id": cid}).body
    else:
        with caplog.at_level(logging.INFO):
            cid, body = send(caller, query, variables)
    assert body.get("errors"), body
    lines = logged_for(caplog, cid)
    assert len(lines) == 1, [(r.name, r.levelname, r.getMessage()) for r in lines]
    line = lines[0]
    assert (line.levelno, line.exc_info, line.stack_info) == (logging.INFO, None, None)
    message = line.getMessage()
    assert f"code={code} " in message and f"correlation_id={cid}" in message and "\n" not in message, message


def test_a_rejected_token_is_one_info_line(client, caplog):
    cid = f"cid-{uuid.uuid4().hex}"
    with caplog.at_level(logging.INFO):
        r = client.as_("eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJtLTEifQ.c2lnbmF0dXJl")(
            "{ me { id } }", headers={"x-correlation-id": cid})
    assert r.status == 401
    [line] = logged_for(caplog, cid)
    assert line.levelno == logging.INFO and not line.exc_info
    assert "code=UNAUTHENTICATED" in line.getMessage() and "eyJ" not in record_text(line)


def test_an_unexpected_error_is_one_error_line_with_correlation_id_operation_and_path(member, monkeypatch, caplog):
    def broken(self: Members, member_id: str) -> list:
        raise RuntimeError("table exploded")

    monkeypatch.setattr(Members, "dashboard", broken)
    with caplog.at_level(logging.INFO):
        cid, body = send(member, "query Dashboard { me { id } }")
    assert body["errors"][0]["extensions"] == {"code": "INTERNAL", "correlationId": cid}  # what the client holds
    [line] = logged_for(caplog, cid)
    assert line.levelno == logging.ERROR and line.exc_info and line.exc_info[0] is RuntimeError
    message = line.getMessage()
    for part in (f"correlation_id={cid}", "operation=Dashboard", "path=me", "code=INTERNAL"):
        assert part in message, message
    assert (line.correlation_id, line.operation, line.path) == (cid, "Dashboard", "me")  # structured, too


def test_an_unexpected_error_before_execution_names_the_operation_and_correlation_id(member, monkeypatch, caplog):
    import strawberry.schema.schema as strawberry_schema

    def broken(*args: object, **kwargs: object) -> list:
        raise RuntimeError("rule crashed")

    monkeypatch.setattr(strawberry_schema, "validate", broken)
    with caplog.at_level(logging.INFO):
        cid, body = send(member, f"query Probe{uuid.uuid4().hex[:8]} {{ me {{ id }} }}")
    assert body["errors"][0]["extensions"]["code"] == "INTERNAL"
    [line] = logged_for(caplog, cid)
    assert line.levelno == logging.ERROR and line.exc_info
    assert f"correlation_id={cid}" in line.getMessage() and "operation=Probe" in line.getMessage()


# -- what a log line never carries ----------------------------------------------------------------------
LEAKY = [  # errors whose messages, as graphql-core writes them, quote the caller's values
    ("mutation Enroll($input: MemberEnrollInput!) { memberEnroll(input: $input) { userErrors { code } } }",
     {"input": {"name": "Aiko Tanaka", "email": "aiko.leak@example.com", "birthday": "1990-05-17", "nope": 1}}),
    ("mutation Enroll($input: MemberEnrollInput!) { memberEnroll(input: $input) { userErrors { code } } }",
     {"input": {"name": "Aiko Tanaka", "email": ["aiko.leak@example.com"]}}),
    ('mutation { memberEnroll(input: {name: "Aiko", email: "aiko.leak@example.com", birthday: 19900517}) '
     "{ userErrors { code } } }", None),
    ('{ me { id } } "aiko.leak@example.com" 1990-05-17', None),
]


@pytest.mark.parametrize("query, variables", LEAKY, ids=["unknown-field", "wrong-type", "literal", "syntax"])
def test_client_error_lines_carry_no_email_or_birthday_of_the_request(member, caplog, query, variables):
    with caplog.at_level(logging.INFO):
        cid, body = send(member, query, variables)
    assert body.get("errors") and "data" not in body, body
    lines = logged_for(caplog, cid)
    assert lines
    for line in lines:
        text = record_text(line)
        assert "aiko.leak" not in text and "1990-05-17" not in text and "19900517" not in text, text


def test_the_privacy_matcher_finds_emails_tokens_and_test_birthdays():
    birthdays = birthdays_of_test_data()
    assert (1990, 5, 1) in birthdays and (1992, 4, 18) in birthdays  # tests/api/test_members.py, api/demo.py
    matcher = PrivacyMatcher(birthdays)
    assert [w for w, _ in matcher.find("enrolled aiko@example.com")] == ["email"]
    assert [w for w, _ in matcher.find("auth eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJ4In0.sig")] == ["token"]
    assert [w for w, _ in matcher.find("Authorization: Bearer abcdefghijklmnopqrstuvwxyz")] == ["token"]
    assert [w for w, _ in matcher.find("born 1990-05-01")] == ["birthday"]
    assert [w for w, _ in matcher.find("birthday=datetime.date(1992, 4, 18)")] == ["birthday"]
    clean = ("graphql client error code=FORBIDDEN operation=Staff path=members correlation_id=cid-1: "
             "expected a Bearer token; job birthdays for t-1 on 2026-03-15; Dates run from 1900-01-01")
    assert matcher.find(clean) == []


def test_a_session_whose_log_carries_an_email_fails(tmp_path):
    # A run of its own (the plugin of this run would catch this test's email otherwise), with no other
    # plugin loaded, so it starts fast.
    (tmp_path / "test_leak.py").write_text(textwrap.dedent("""
        import logging

        def test_logs_an_email():
            logging.getLogger("kizuna.members").info("enrolled %s", "aiko@example.com")

        def test_logs_only_an_id():
            logging.getLogger("kizuna.members").info("enrolled %s", "m-1")

        def test_logs_an_email_once_powertools_filters_the_root_handlers():
            from aws_lambda_powertools import Logger  # as api.lambda_handler does

            Logger(service="kizuna")
            logging.getLogger("kizuna.http").warning("enrolled %s", "ben@example.com")
    """))
    env = {k: v for k, v in os.environ.items() if not k.startswith("PYTEST_")}
    env |= {"PYTHONPATH": str(ROOT), "PYTEST_DISABLE_PLUGIN_AUTOLOAD": "1"}
    # Its own rootdir, so the report names tests as `test_leak.py::...` wherever the checkout lives.
    run = subprocess.run([sys.executable, "-m", "pytest", "-p", "tests.log_privacy", "-p", "no:cacheprovider", "-q",
                          "--rootdir", str(tmp_path), str(tmp_path / "test_leak.py")],
                         cwd=ROOT, capture_output=True, text=True, timeout=60, env=env)
    assert run.returncode == 1, run.stdout + run.stderr
    assert "3 passed" in run.stdout  # every test passed: the log alone fails the run
    assert "2 log record(s) carry personal data or credentials" in run.stdout, run.stdout
    assert "email 'aiko@example.com' in INFO kizuna.members during test_leak.py::test_logs_an_email" in run.stdout, run.stdout
    assert "email 'ben@example.com' in WARNING kizuna.http during test_leak.py::test_logs_an_email_once" in run.stdout
