"""schema.graphql is checked in for frontends to diff; it must match the code."""
from scripts.export_schema import SCHEMA_FILE, sdl


def test_checked_in_schema_matches_the_code():
    assert SCHEMA_FILE.read_text() == sdl(), "schema.graphql is stale: run `make schema`"


def test_external_ids_are_ids_never_ints():
    text = SCHEMA_FILE.read_text()
    for name in ("orderId: ID", "memberId: ID", "rewardId: ID"):
        assert name in text
    assert "orderId: Int" not in text
