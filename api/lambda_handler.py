"""AWS Lambda entry point for the GraphQL API (API Gateway HTTP API, payload v2)."""
from __future__ import annotations

import gc

gc.disable()  # init allocates many long-lived objects; collecting them mid-import only costs time

from aws_lambda_powertools import Logger  # noqa: E402
from mangum import Mangum  # noqa: E402

from api.asgi import AsgiApp  # noqa: E402
from api.http import Api  # noqa: E402
from api.runtime import build_services  # noqa: E402
from api.settings import from_env  # noqa: E402

logger = Logger(service="kizuna")

# Built once per container: the DynamoDB client, token verifier and schema are reused by every request.
services = build_services(from_env())
app = AsgiApp(Api(services, on_correlation_id=logger.set_correlation_id))
_mangum = Mangum(app, lifespan="off")
gc.freeze()  # what init built lives as long as the container: keep it out of later collections
gc.enable()


@logger.inject_lambda_context(clear_state=True)
def handler(event: dict, context: object) -> dict:
    return _mangum(event, context)
