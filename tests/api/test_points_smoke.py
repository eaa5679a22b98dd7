"""Points end to end: earn from an order, hold, release, redeem, refund."""
from __future__ import annotations

import uuid
from datetime import datetime, timedelta, timezone

from infra.points.jobs import PointsJobs
from infra.points.program_store import ProgramStore

ME_POINTS = "{ me { points { available pending lifetime debt expiringSoon { points at } } } }"
ORDER = """
mutation O($input: OrderInput!) { orderRecord(input: $input) { outcome points memberId userErrors { field code message } } }"""


def order_input(member_id, order_id=None, price="5000", qty=2, currency="JPY", subtotal=None, total=None, **kw):
    gross = int(price) * qty
    return {"orderId": order_id or str(uuid.uuid4().int)[:18], "currency": currency,
            "orderedAt": datetime.now(timezone.utc).isoformat(), "memberId": member_id,
            "lines": [{"id": "L1", "quantity": qty, "price": price, "sku": "TEE-1", "category": "apparel"}],
            "subtotal": subtotal or str(gross), "total": total or str(gross + 1000), **kw}


def test_an_order_earns_pending_points_that_release_after_the_window(client, idp, enrolled, member_id, services,
                                                                      tenant):
    svc = client.as_(idp.service_token())
    out = svc.ok(ORDER, {"input": order_input(member_id)})["orderRecord"]
    assert out == {"outcome": "CREDITED", "points": 100, "memberId": member_id, "userErrors": []}
    assert enrolled.ok(ME_POINTS)["me"]["points"] == {"available": 0, "pending": 100, "lifetime": 100, "debt": 0,
                                                       "expiringSoon": None}
    jobs = PointsJobs(tenant, ProgramStore(tenant, services.programs))
    report = jobs.release_due(datetime.now(timezone.utc) + timedelta(days=31))
    assert report.processed >= 1
    assert enrolled.ok(ME_POINTS)["me"]["points"]["available"] == 100
