"""Several items by key in one consistent BatchGetItem (VIP events' screens, a partner's look-up)."""
from __future__ import annotations

from typing import Any

from domain.errors import ErrorCode, UserError
from infra.dynamo_errors import call
from infra.items.base import TableItem

BATCH_KEYS = 100  # BatchGetItem's limit per request
BATCH_ATTEMPTS = 6


def batch_get(keys_: list[tuple[str, str]], what: str = "batch read") -> tuple[list[TableItem], int]:
    """Consistent BatchGetItem of the keys (at most 100 per request), UnprocessedKeys asked again.
    Returns the items found and the number of requests sent."""
    client = TableItem._get_connection().connection.client
    table = TableItem.Meta.table_name
    known = TableItem._get_discriminator_attribute()._discriminator_map
    found: list[TableItem] = []
    sent = 0
    unique = list(dict.fromkeys(keys_))
    for i in range(0, len(unique), BATCH_KEYS):
        pending: dict[str, Any] = {table: {"Keys": [{"PK": {"S": pk}, "SK": {"S": sk}}
                                                    for pk, sk in unique[i:i + BATCH_KEYS]],
                                           "ConsistentRead": True}}
        for attempt in range(BATCH_ATTEMPTS):
            answer = call(lambda: client.batch_get_item(RequestItems=pending), what=what)
            sent += 1
            for raw in answer.get("Responses", {}).get(table, []):
                if raw.get("kind", {}).get("S") in known:
                    found.append(TableItem.from_raw_data(raw))
            pending = answer.get("UnprocessedKeys") or {}
            if not pending:
                break
        else:
            raise UserError(ErrorCode.CONFLICT, "Not everything could be read now; try again.")
    return found, sent
