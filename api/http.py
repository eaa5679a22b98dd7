"""HTTP handling shared by the Lambda handler and the local server: limits, auth, GraphQL execution."""
from __future__ import annotations

import logging
from datetime import datetime, timezone
from typing import Any, Callable

from graphql import GraphQLError
from strawberry.exceptions import MissingQueryError
from strawberry.schema.exceptions import CannotGetOperationTypeError

from api.auth import Unauthenticated
from api.graphiql import PREFIX as GRAPHIQL_ASSETS, GraphiQL
from api.messages import (GRAPHQL_RESPONSE, JSON, JsonRefused, Request, Response, correlation_id, error_response,
                          json_response, read_json)
from api.webhooks import ShopifyWebhooks
from api.runtime import Services
from domain.access import ANONYMOUS, Principal
from resolvers.context import Context
from resolvers.errors import log_name, loggable

log = logging.getLogger("kizuna.http")


class Api:
    def __init__(self, services: Services, clock: Callable[[], datetime] | None = None,
                 on_correlation_id: Callable[[str], None] | None = None, graphiql: GraphiQL | None = None):
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
        # The IDE (a GET of /graphql asking for HTML) and its assets exist in dev mode only.
        self.graphiql = graphiql or GraphiQL()
        if self.settings.dev:
            self.prefix_routes[GRAPHIQL_ASSETS] = self.graphiql.asset

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
        except Exception as e:
            log.error("unexpected error code=INTERNAL endpoint=%s correlation_id=%s: %s", req.path, cid,
                      type(e).__name__, exc_info=True, extra={"correlation_id": cid, "endpoint": req.path})
            return _internal(cid)

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
    # the body; any response with `data` is a 200, even `data: null` from a non-null root field's
    # error (see graphql_response).
    def graphql(self, req: Request, cid: str) -> Response:
        if req.method == "GET" and self.settings.dev and "text/html" in req.headers.get("accept", ""):
            return self.graphiql.page()
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
        if payload.get("extensions") is not None and not isinstance(payload["extensions"], dict):
            return self._malformed("`extensions` must be an object.", cid, media)
        try:
            principal = self.principal(req)
        except Unauthenticated as e:
            log.info("token rejected code=UNAUTHENTICATED correlation_id=%s: %s", cid, e,
                     extra={"correlation_id": cid, "code": "UNAUTHENTICATED"})
            return error_response(401, "UNAUTHENTICATED", "The access token is missing, invalid or expired.", cid,
                                  media_type=media)
        context = Context(principal=principal, tenant=principal.tenant, correlation_id=cid,
                          services=self.services, clock=self.clock,
                          idempotency_key=req.headers.get("idempotency-key"))
        try:
            result = self.services.schema.execute_sync(
                payload["query"], variable_values=variables, context_value=context, operation_name=operation_name)
        except MissingQueryError:
            return self._request_error("The query is empty.", operation_name, cid, media)
        except CannotGetOperationTypeError:
            message = (f'The document has no operation named "{operation_name}".' if operation_name is not None
                       else "The document has no operation to run.")
            return self._request_error(message, operation_name, cid, media)
        errors = result.errors or []
        for error in errors:
            # Strawberry turns any exception before execution (parsing, validation, a crashing rule)
            # into an error carrying str(exception). That is our fault, not the caller's: the schema
            # logged it (with the operation's name, which only it knows) and the caller gets a masked
            # 500. Errors with a path are MaskUnexpectedErrors' to mask.
            if error.path is None and error.original_error is not None \
                    and not isinstance(error.original_error, GraphQLError):
                return _internal(cid)
        # Each error was logged once, by the schema (resolvers.schema.Schema.process_errors).
        # graphql-core gives `data: None` both when nothing ran and when a non-null root field failed;
        # only a field error has a path, and only then did execution start (and `data` belongs).
        executed = result.data is not None or not errors or any(e.path for e in errors)
        body: dict[str, Any] = {"data": result.data} if executed else {}
        if errors:
            body["errors"] = [e.formatted for e in errors]
        return self.graphql_response(body, cid, media)

    def graphql_response(self, body: dict[str, Any], cid: str, media: str) -> Response:
        """A GraphQL response's status follows from its body alone: with a `data` entry (even null) it
        is a 200 for both media types; without one (a request error) a 400 for
        application/graphql-response+json and a 200 for application/json, whose clients read the body."""
        status = 200 if "data" in body or media != GRAPHQL_RESPONSE else 400
        return json_response(status, body, cid, media_type=media, suggestions=self.settings.dev)

    def _malformed(self, message: str, cid: str, media: str) -> Response:
        log.info("malformed request code=BAD_REQUEST correlation_id=%s: %s", cid, message,
                 extra={"correlation_id": cid, "code": "BAD_REQUEST"})
        return error_response(400, "BAD_REQUEST", message, cid, media_type=media)

    def _request_error(self, message: str, operation_name: str | None, cid: str, media: str) -> Response:
        operation = log_name(operation_name)
        log.info("graphql client error code=BAD_REQUEST operation=%s path=- correlation_id=%s: %s",
                 operation, cid, loggable(message),
                 extra={"correlation_id": cid, "operation": operation, "code": "BAD_REQUEST"})
        body = {"errors": [{"message": message, "extensions": {"code": "BAD_REQUEST"}}]}
        return self.graphql_response(body, cid, media)


def _internal(cid: str) -> Response:
    return error_response(500, "INTERNAL", f"Unexpected error (correlation id {cid}).", cid)


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
