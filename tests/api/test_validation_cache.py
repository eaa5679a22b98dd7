"""Validation results are cached across requests, and the limits still hold with the cache on."""
from __future__ import annotations

import strawberry.schema.schema as strawberry_schema


def test_a_repeated_query_is_validated_once(member, monkeypatch):
    real = strawberry_schema.validate
    calls = []

    def counted(*args, **kwargs):
        calls.append(1)
        return real(*args, **kwargs)

    monkeypatch.setattr(strawberry_schema, "validate", counted)
    query = "query CacheProbe { me { id name referralCode } }"
    for _ in range(5):
        assert member(query).status == 200
    assert len(calls) == 1


def test_limits_still_apply_to_cached_documents(member):
    aliases = "query A { " + " ".join(f"a{i}: me {{ id }}" for i in range(16)) + " }"
    for _ in range(2):
        r = member(aliases)  # a request error: 200 for application/json clients, and no data entry
        assert r.status == 200 and "data" not in r.body and "aliases" in r.errors[0]["message"].lower()
    fifteen = "query B { " + " ".join(f"a{i}: me {{ id }}" for i in range(15)) + " }"
    assert member(fifteen).status == 200
