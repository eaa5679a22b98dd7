"""HTTP handling shared by the Lambda handler and the local server: limits, auth, GraphQL execution."""
from __future__ import annotations

import json
import logging
import uuid
from datetime import datetime, timezone
from typing import Any, Callable

from api.auth import Unauthenticated
from api.messages import JSON, Request, Response, error_response, json_response
from api.webhooks import ShopifyWebhooks
from api.runtime import Services
from domain.access import ANONYMOUS, Principal
from resolvers.context import Context

log = logging.getLogger("kizuna.http")


class Api:
    def __init__(self, services: Services, clock: Callable[[], datetime] | None = None,
                 on_correlation_id: Callable[[str], None] | None = None):
        self.services = services
        self.settings = services.settings
        self.clock = clock or (lambda: datetime.now(timezone.utc))
        self.on_correlation_id = on_correlation_id or (lambda _cid: None)
        self.routes: dict[str, Callable[[Request, str], Response]] = {
            "/graphql": self.graphql,
            "/health": lambda req, cid: json_response(200, {"ok": True}, cid),
        }
        self.prefix_routes: dict[str, Callable[[Request, str], Response]] = {
            "/webhooks/": ShopifyWebhooks(self.settings.webhook_secrets, self.services.programs, lambda: self.clock()),
        }

    def handle(self, req: Request) -> Response:
        cid = req.headers.get("x-correlation-id") or req.aws_request_id or uuid.uuid4().hex
        cid = cid[:100]
        self.on_correlation_id(cid)
        try:
            if len(req.body) > self.settings.max_body_bytes:
                return error_response(413, "BODY_TOO_LARGE",
                                      f"Request body is over {self.settings.max_body_bytes} bytes.", cid)
            route = self.routes.get(req.path)
            if route is None:
                route = next((h for p, h in self.prefix_routes.items() if req.path.startswith(p)), None)
            if route is None:
                return error_response(404, "NOT_FOUND", "No such endpoint.", cid)
            return route(req, cid)
        except Exception:
            log.exception("unhandled error", extra={"correlation_id": cid, "path": req.path})
            return error_response(500, "INTERNAL", f"Unexpected error (correlation id {cid}).", cid)

    # -- tenancy and authentication ---------------------------------------------------------
    def anonymous_tenant(self, req: Request) -> str | None:
        if req.stage and req.stage in self.settings.stage_tenants:
            return self.settings.stage_tenants[req.stage]
        return self.settings.default_tenant

    def principal(self, req: Request) -> Principal:
        auth = req.headers.get("authorization")
        if not auth:
            return Principal(ANONYMOUS.kind, self.anonymous_tenant(req))
        scheme, _, token = auth.partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            raise Unauthenticated("expected a Bearer token")
        return self.services.verifier.verify(token.strip())

    # -- GraphQL ------------------------------------------------------------------------------
    def graphql(self, req: Request, cid: str) -> Response:
        if req.method == "GET" and self.settings.dev and "text/html" in req.headers.get("accept", ""):
            from strawberry.http.ides import get_graphql_ide_html
            return Response(200, get_graphql_ide_html(graphql_ide="graphiql").encode(),
                            {"content-type": "text/html; charset=utf-8"})
        if req.method != "POST":
            resp = error_response(405, "METHOD_NOT_ALLOWED", "GraphQL requests must be POST.", cid)
            resp.headers["allow"] = "POST"
            return resp
        ctype = req.headers.get("content-type", "").split(";")[0].strip().lower()
        if ctype != JSON:
            return error_response(415, "UNSUPPORTED_MEDIA_TYPE", "Send GraphQL requests as application/json.", cid)
        try:
            payload = json.loads(req.body)
        except (ValueError, UnicodeDecodeError):
            return error_response(400, "BAD_REQUEST", "The body is not valid JSON.", cid)
        if not isinstance(payload, dict) or not isinstance(payload.get("query"), str):
            return error_response(400, "BAD_REQUEST", "The body must be an object with a `query` string.", cid)
        variables = payload.get("variables")
        operation_name = payload.get("operationName")
        if variables is not None and not isinstance(variables, dict):
            return error_response(400, "BAD_REQUEST", "`variables` must be an object.", cid)
        if operation_name is not None and not isinstance(operation_name, str):
            return error_response(400, "BAD_REQUEST", "`operationName` must be a string.", cid)
        try:
            principal = self.principal(req)
        except Unauthenticated as e:
            log.info("token rejected: %s", e, extra={"correlation_id": cid})
            return error_response(401, "UNAUTHENTICATED", "The access token is missing, invalid or expired.", cid)
        context = Context(principal=principal, tenant=principal.tenant, correlation_id=cid,
                          services=self.services, clock=self.clock,
                          idempotency_key=req.headers.get("idempotency-key"))
        result = self.services.schema.execute_sync(
            payload["query"], variable_values=variables, context_value=context, operation_name=operation_name)
        body: dict[str, Any] = {"data": result.data}
        if result.errors:
            body["errors"] = [e.formatted for e in result.errors]
        status = 200 if result.data is not None else 400
        return json_response(status, body, cid)
