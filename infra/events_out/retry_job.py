"""The `webhook-retries` job: every delivery due by now (GSI2 `T#t#DUE#WEBHOOK`, oldest due first, on the
points jobs' walk: pages, budget, cursor, lease), attempted once more with its endpoint as it is now (the
current secrets; a deleted endpoint cancels it, a disabled one dead-letters it). Each attempt's record is
conditioned on the attempt count read, so a run repeated over the same page records nothing twice."""
from __future__ import annotations

from datetime import datetime

from infra.events_out.deliveries import DUE_JOB, Deliveries, WebhookDeliveryItem
from infra.events_out.endpoints import Endpoints
from infra.events_out.outlet import Outlet
from infra.points.jobs import JobReport, PointsJobs

JOB = "webhook-retries"


def retry_deliveries(jobs: PointsJobs, now: datetime, outlet: Outlet | None = None) -> JobReport:
    report = JobReport(JOB, jobs.tenant)
    outlet = outlet or getattr(jobs, "outlet", None) or Outlet()
    deliveries, endpoints = Deliveries(jobs.tenant), Endpoints(jobs.tenant)
    seen: dict[str, object] = {}  # endpoints read once per run

    def settle(item: WebhookDeliveryItem) -> None:
        if item.endpoint_id not in seen:
            seen[item.endpoint_id] = endpoints.get(item.endpoint_id)
        recorded = deliveries.attempt(item, seen[item.endpoint_id], outlet, now)  # type: ignore[arg-type]
        if recorded is None:
            report.skipped += 1
            return
        report.processed += 1
        report.settled(item.member_id)

    return jobs._walk(report, DUE_JOB, now, settle, kind=WebhookDeliveryItem)
