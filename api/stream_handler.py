"""AWS Lambda handler for the table's stream (event source mapping, ReportBatchItemFailures).

Lambda delivers batches of stream records, each shaped as GetRecords returns them. The records are handed
to the same processor `make run` and the tests use (infra/events/processor.py): every outbox event to
the listeners of its type, in order. The answer names the first record that failed; Lambda retries from
it (it and everything after it in the batch), so records before it are not handled again and nothing
after it is passed. After `maximumRetryAttempts` the batch is bisected and retried in halves
(serverless.yml); an effect already applied is recognised by its mark, so a retry doubles nothing.
"""
from __future__ import annotations

import logging
from typing import Any, Callable

from api.settings import Settings, from_env
from infra.events.processor import Processor, env_factory
from infra.items import bind_table

log = logging.getLogger("kizuna.events")

_processor: Processor | None = None


def build_processor(settings: Settings) -> Processor:
    """Once per container: bind the models, register the listeners, share one program cache."""
    from infra.events.listeners import register_all
    from infra.events_out.outlet import outlet_from
    from infra.points.program_store import ProgramCache

    bind_table(settings.table_name, region=settings.region, host=settings.dynamodb_endpoint)
    register_all()
    return Processor(env_factory(ProgramCache(settings.program_cache_seconds), outlet=outlet_from(settings)))


def _get_processor() -> Processor:
    global _processor
    if _processor is None:
        _processor = build_processor(from_env())
    return _processor


def batch_response(failures: list[str]) -> dict[str, Any]:
    return {"batchItemFailures": [{"itemIdentifier": seq} for seq in failures[:1]]}


def make_handler(processor: Callable[[], Processor]) -> Callable[[dict, Any], dict]:
    def handle(event: dict, context: Any) -> dict:
        records = event.get("Records") or []
        failures = processor().handle_records(records)
        if failures:
            log.error("stream batch: %d records, retrying from %s", len(records), failures[0])
        return batch_response(failures)

    return handle


handler = make_handler(_get_processor)
