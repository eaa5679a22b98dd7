"""The member counters item stays small however long the history: every `me` reads it."""
from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone

from domain.progress import counters as counting


def test_three_years_of_daily_orders_and_activities_keep_the_counters_under_three_kilobytes():
    c = counting.Counters()
    start = datetime(2024, 1, 1, tzinfo=timezone.utc)
    for i in range(1000):
        at = start + timedelta(hours=26 * i)
        c = counting.apply(c, "points.earned", {"orderId": f"o{i}", "status": "PENDING", "amount": str(2000 + 37 * i),
                                                "currency": "JPY", "categories": [f"cat-{i % 12}"]}, at, "Asia/Tokyo", {})
        if i % 2 == 0:
            c = counting.apply(c, "points.earned", {"action": "review_written"}, at, "Asia/Tokyo", {})
    stored = json.dumps(c.to_dict(), separators=(",", ":"))  # as infra.progress.items.CompactJSON writes it
    assert len(stored.encode()) < 3000, len(stored)
    assert counting.Counters.from_dict(json.loads(stored)).to_dict() == c.to_dict()
