"""HTTP handling shared by the Lambda handler and the local server: limits, auth, GraphQL execution."""
from __future__ import annotations

import logging
from datetime import datetime, timezone
from typing import Any, Callable

from graphql import GraphQLError
from strawberry.exceptions import MissingQueryError
from strawberry.schema.exceptions import CannotGetOperationTypeError

from api.auth import Unauthenticated
from api.messages import (GRAPHQL_RESPONSE, JSON, JsonRefused, Request, Response, correlation_id, error_response,
                          json_response, read_json)
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
        cid = correlation_id(req.headers.get("x-correlation-id"), req.aws_request_id)
        self.on_correlation_id(cid)
        try:
            cap = self.settings.body_cap(req.path)
            if len(req.body) > cap:
                return error_response(413, "BODY_TOO_LARGE", f"Request body is over {cap} bytes.", cid)
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

    # -- GraphQL ---------------------------------------------------------------------------------
    # GraphQL over HTTP (graphql.github.io/graphql-over-http): a request that is not well-formed is a
    # 400 whatever the media type; a request error (nothing executed, so no `data`) is a 400 only for
    # clients of application/graphql-response+json, since application/json clients expect 200 and read
    # the body; any response with `data` is a 200.
    def graphql(self, req: Request, cid: str) -> Response:
        if req.method == "GET" and self.settings.dev and "text/html" in req.headers.get("accept", ""):
            from strawberry.http.ides import get_graphql_ide_html
            return Response(200, get_graphql_ide_html(graphql_ide="graphiql").encode(),
                            {"content-type": "text/html; charset=utf-8"})
        if req.method != "POST":
            resp = error_response(405, "METHOD_NOT_ALLOWED", "GraphQL requests must be POST.", cid)
            resp.headers["allow"] = "POST"
            return resp
        media = response_media_type(req.headers.get("accept"))
        if media is None:
            return error_response(406, "NOT_ACCEPTABLE",
                                  f"Accept {GRAPHQL_RESPONSE} or {JSON} to get GraphQL responses.", cid)
        ctype = req.headers.get("content-type", "").split(";")[0].strip().lower()
        if ctype != JSON:
            return error_response(415, "UNSUPPORTED_MEDIA_TYPE", "Send GraphQL requests as application/json.", cid,
                                  media_type=media)
        try:
            payload = read_json(req.body)
        except JsonRefused as e:
            return self._malformed(str(e), cid, media)
        if not isinstance(payload, dict) or not isinstance(payload.get("query"), str):
            return self._malformed("The body must be an object with a `query` string.", cid, media)
        variables = payload.get("variables")
        operation_name = payload.get("operationName")
        if variables is not None and not isinstance(variables, dict):
            return self._malformed("`variables` must be an object.", cid, media)
        if operation_name is not None and not isinstance(operation_name, str):
            return self._malformed("`operationName` must be a string.", cid, media)
        try:
            principal = self.principal(req)
        except Unauthenticated as e:
            log.info("token rejected: %s", e, extra={"correlation_id": cid})
            return error_response(401, "UNAUTHENTICATED", "The access token is missing, invalid or expired.", cid,
                                  media_type=media)
        context = Context(principal=principal, tenant=principal.tenant, correlation_id=cid,
                          services=self.services, clock=self.clock,
                          idempotency_key=req.headers.get("idempotency-key"))
        try:
            result = self.services.schema.execute_sync(
                payload["query"], variable_values=variables, context_value=context, operation_name=operation_name)
        except MissingQueryError:
            return self._request_error([_error("The query is empty.")], cid, media)
        except CannotGetOperationTypeError:
            message = (f'The document has no operation named "{operation_name}".' if operation_name is not None
                       else "The document has no operation to run.")
            return self._request_error([_error(message)], cid, media)
        errors = result.errors or []
        for error in errors:
            # Strawberry turns any exception before execution (parsing, validation, a crashing rule)
            # into an error carrying str(exception). That is our fault, not the caller's: Api.handle
            # logs it and answers a masked 500. Errors with a path are MaskUnexpectedErrors' to mask.
            if error.path is None and error.original_error is not None \
                    and not isinstance(error.original_error, GraphQLError):
                raise error.original_error
        formatted = [e.formatted for e in errors]
        if result.data is None and not any(e.path for e in errors):
            return self._request_error(formatted, cid, media)
        body: dict[str, Any] = {"data": result.data}
        if formatted:
            body["errors"] = formatted
        return json_response(200, body, cid, media_type=media, suggestions=self.settings.dev)

    def _malformed(self, message: str, cid: str, media: str) -> Response:
        log.info("malformed GraphQL request: %s", message, extra={"correlation_id": cid})
        return error_response(400, "BAD_REQUEST", message, cid, media_type=media)

    def _request_error(self, errors: list[dict[str, Any]], cid: str, media: str) -> Response:
        log.info("GraphQL request error: %s", errors[0].get("message"), extra={"correlation_id": cid})
        status = 400 if media == GRAPHQL_RESPONSE else 200
        return json_response(status, {"errors": errors}, cid, media_type=media, suggestions=self.settings.dev)


def _error(message: str) -> dict[str, Any]:
    return {"message": message, "extensions": {"code": "BAD_REQUEST"}}


_SPECIFICITY = {"*/*": 0, "application/*": 1}


def response_media_type(accept: str | None) -> str | None:
    """The media type to answer in, from the Accept header (RFC 9110 q-values; the most specific range
    that matches a type sets its q; equal q goes to the type listed first, and to application/json
    when one range covers both). None: the client accepts neither."""
    if not accept or not accept.strip():
        return JSON
    # per media type: (specificity, q, position) of the most specific range that matches it
    best: dict[str, tuple[int, float, int]] = {}
    for position, part in enumerate(accept.split(",")):
        media_range, *params = (p.strip() for p in part.split(";"))
        media_range = media_range.lower()
        q = 1.0
        for param in params:
            name, _, value = param.partition("=")
            if name.strip().lower() == "q":
                try:
                    q = float(value)
                except ValueError:
                    q = -1.0
        if not 0.0 <= q <= 1.0:
            continue  # a malformed range says nothing
        for media in (GRAPHQL_RESPONSE, JSON):
            specificity = 2 if media_range == media else _SPECIFICITY.get(media_range, -1)
            if specificity >= 0 and specificity > best.get(media, (-1, 0.0, 0))[0]:
                best[media] = (specificity, q, position)
    ranked = sorted(((q, -position, media == JSON, media) for media, (_, q, position) in best.items()), reverse=True)
    if not ranked or ranked[0][0] <= 0:
        return None
    return ranked[0][3]
