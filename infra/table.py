"""The one DynamoDB table, defined once in table.json for both local creation and serverless.yml."""
from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

TABLE_JSON = Path(__file__).with_name("table.json")

# GSI1: lookups and lists (members by join date, a member's redemptions, later feeds and queues).
# GSI2: due dates for scheduled jobs (pending release, lot expiry, reminders); sparse, never scanned.
LOOKUP_INDEX = "GSI1"
DUE_INDEX = "GSI2"
# GSI3: when the tier job owes a member a look (a period end, an at-risk notice, a grace or staff tier
# ending). Keys only: a credit sets it without a read and the job reads the member anyway, so the
# index is written only when the mark moves, not on every profile change.
TIER_DUE_INDEX = "GSI3"


def table_spec() -> dict[str, Any]:
    return json.loads(TABLE_JSON.read_text())


def create_table(client: Any, table_name: str, *, wait_seconds: float = 30.0) -> bool:
    """Create the table (and turn TTL on) if it is missing. Returns True when it was created."""
    spec = table_spec()
    try:
        client.describe_table(TableName=table_name)
        return False
    except client.exceptions.ResourceNotFoundException:
        pass
    ttl = spec.pop("TimeToLiveSpecification")
    stream = spec.pop("StreamSpecification")
    client.create_table(
        TableName=table_name,
        StreamSpecification={"StreamEnabled": True, **stream},
        **spec,
    )
    deadline = time.monotonic() + wait_seconds
    while client.describe_table(TableName=table_name)["Table"]["TableStatus"] != "ACTIVE":
        if time.monotonic() > deadline:
            raise TimeoutError(f"table {table_name} did not become ACTIVE")
        time.sleep(0.1)
    client.update_time_to_live(TableName=table_name, TimeToLiveSpecification=ttl)
    return True
