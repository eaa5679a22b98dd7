"""The in-app rate limit of one partner brand: a fixed window counted in the table.

    T#t#PARTNER#<p> / RATE#<window start epoch>     count of the window's calls; TTL a few windows on

Why a fixed window: a call costs one conditional UpdateItem and no read. `ADD count 1` under
`attribute_not_exists(count) OR count < :limit` counts the call and checks the limit in the same
atomic write; a failed condition is the refusal, and the window's end is when to come back. A token
bucket would need the bucket's level and its last refill time read and written back under a version
condition, which is a read plus a write and retries whenever two calls meet. The price of the fixed
window, said plainly: a partner that spends its whole limit at the very end of one window and again
at the very start of the next gets up to twice the limit within one window's length, at the edge.
Over any longer stretch it never gets more than the limit per window.

Why in the table: API Gateway's usage plan throttles per API key at the edge, but each Lambda
container (and the local server) would otherwise count only its own calls, so N containers would
let N times the limit through. The counter lives in the one table every container writes to, and
DynamoDB applies the conditional ADDs one at a time, so the limit holds across all of them together.

A retried write (throttled, or a timeout after which it may have been applied) may count one call
twice: the limit errs on the side of refusing, never of letting more through.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from pynamodb.attributes import NumberAttribute

from infra import keys
from infra.dynamo_errors import Kind, call, classify
from infra.items.base import TableItem

KIND = "partner-rate"
KEEP_WINDOWS = 3  # windows an ended window's item stays before TTL removes it (TTL deletes late anyway)


class PartnerRateWindow(TableItem, discriminator=KIND):
    """One window of one partner's calls; written only by `RateLimit.take`."""

    count = NumberAttribute(default=0)


@dataclass(frozen=True)
class Decision:
    allowed: bool
    remaining: int  # calls still allowed in this window after this one
    retry_after_seconds: int  # 0 when allowed; else seconds until the window ends (at least 1)


class RateLimit:
    """`limit_per_window` calls per `window_seconds` for one partner of one tenant, shared by every
    container that writes to the table. `client` is a botocore DynamoDB client; by default the one the
    models share (bound by `bind_table`)."""

    def __init__(self, tenant: str, partner_id: str, limit_per_window: int, window_seconds: int,
                 *, client: Any = None) -> None:
        if not partner_id or "#" in partner_id:
            raise ValueError(f"invalid partner id {partner_id!r}")
        if limit_per_window < 1 or window_seconds < 1:
            raise ValueError("a rate limit needs at least one call per window of at least one second")
        self.pk = keys.partner_pk(keys.check_tenant(tenant), partner_id)
        self.limit = int(limit_per_window)
        self.window = int(window_seconds)
        self._client = client

    def window_start(self, now: datetime) -> int:
        if now.tzinfo is None:
            raise ValueError("the rate limit needs an aware datetime")
        return int(now.timestamp() // self.window) * self.window

    def take(self, now: datetime) -> Decision:
        """Count one call at `now`, or refuse it when the window's limit is spent."""
        start = self.window_start(now)
        end = start + self.window
        client = self._client or TableItem._get_connection().connection.client
        params: dict[str, Any] = {
            "TableName": TableItem.Meta.table_name,
            "Key": {"PK": {"S": self.pk}, "SK": {"S": keys.rate_window_sk(start)}},
            "UpdateExpression": "SET #kind = :kind, #expires = :expires ADD #count :one",
            "ConditionExpression": "attribute_not_exists(#count) OR #count < :limit",
            "ExpressionAttributeNames": {"#kind": "kind", "#expires": "expiresAt", "#count": "count"},
            "ExpressionAttributeValues": {
                ":kind": {"S": KIND}, ":expires": {"N": str(end + KEEP_WINDOWS * self.window)},
                ":one": {"N": "1"}, ":limit": {"N": str(self.limit)},
            },
            "ReturnValues": "UPDATED_NEW",
        }
        try:
            result = call(lambda: client.update_item(**params), what="partner rate limit")
        except Exception as e:
            if classify(e) is not Kind.CONDITIONAL:
                raise
            wait = math.ceil(end - now.timestamp())
            return Decision(allowed=False, remaining=0, retry_after_seconds=max(1, min(self.window, wait)))
        counted = int(result["Attributes"]["count"]["N"])
        return Decision(allowed=True, remaining=max(0, self.limit - counted), retry_after_seconds=0)
