"""AWS Lambda entry point for the GraphQL API (API Gateway HTTP API, payload v2)."""
from __future__ import annotations

import gc
import logging

gc.disable()  # init allocates many long-lived objects; collecting them mid-import only costs time

from aws_lambda_powertools import Logger  # noqa: E402
from mangum import Mangum  # noqa: E402

from api import lambda_events  # noqa: E402
from api.asgi import AsgiApp  # noqa: E402
from api.http import Api  # noqa: E402
from api.runtime import build_services  # noqa: E402
from api.settings import from_env  # noqa: E402

logger = Logger(service="kizuna")

# Built once per container: the DynamoDB client, token verifier and schema are reused by every request.
services = build_services(from_env())
from api.snapstart import register as register_restore_hooks  # noqa: E402
register_restore_hooks(services, from_env)  # SnapStart: each restored copy reseeds, reconnects, re-reads secrets
app = AsgiApp(Api(services, on_correlation_id=logger.set_correlation_id))
_mangum = Mangum(app, lifespan="off")
gc.freeze()  # what init built lives as long as the container: keep it out of later collections
gc.enable()


log = logging.getLogger("kizuna.lambda")


@logger.inject_lambda_context(clear_state=True)
def handler(event: dict, context: object) -> dict:
    reason = lambda_events.problem(event)
    if reason is not None:
        cid = lambda_events.request_id(event, context)
        logger.set_correlation_id(cid)
        log.info("event refused: %s", reason, extra={"correlation_id": cid})
        return lambda_events.bad_event(reason, cid)
    try:
        return _mangum(event, context)
    except Exception:
        # The event was checked and Api.handle answers every error it meets, so this is our bug.
        cid = lambda_events.request_id(event, context)
        logger.set_correlation_id(cid)
        log.exception("unhandled error outside the API", extra={"correlation_id": cid})
        return lambda_events.internal_error(cid)
