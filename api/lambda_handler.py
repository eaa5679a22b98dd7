"""AWS Lambda entry point for the GraphQL API (API Gateway HTTP API, payload v2)."""
from __future__ import annotations

from aws_lambda_powertools import Logger
from mangum import Mangum

from api.asgi import AsgiApp
from api.http import Api
from api.runtime import build_services
from api.settings import from_env

logger = Logger(service="kizuna")

# Built once per container: the DynamoDB client, token verifier and schema are reused by every request.
services = build_services(from_env())
app = AsgiApp(Api(services, on_correlation_id=logger.set_correlation_id))
_mangum = Mangum(app, lifespan="off")


@logger.inject_lambda_context(clear_state=True)
def handler(event: dict, context: object) -> dict:
    return _mangum(event, context)
