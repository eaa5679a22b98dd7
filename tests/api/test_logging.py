"""Logs an operator can use: expected client errors are one INFO line, without a traceback."""
from __future__ import annotations

import logging


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
