"""The shape of the events the API function serves: API Gateway HTTP API, payload format 2.0.

Mangum indexes into the event as API Gateway builds it; anything else (a test console event, a
wrong integration, a hand-made invoke) would raise inside Mangum and fail the invocation. So the
event is checked first, for exactly what Mangum and AsgiApp read, and a wrong one is answered as
a client error in the shape API Gateway expects back.
"""
from __future__ import annotations

import base64
import binascii
import re
from typing import Any, Mapping

from api.messages import Response, correlation_id, error_response

_HOST = re.compile(r"[^:]*(:[0-9]{1,5})?")  # Mangum splits host on one ':' and int()s the port
_PORT = re.compile(r"[0-9]{1,5}")


def _is_text(value: object) -> bool:
    """A str that can be encoded as UTF-8 (JSON can carry lone surrogates, which cannot)."""
    if not isinstance(value, str):
        return False
    try:
        value.encode()
    except UnicodeEncodeError:
        return False
    return True


def _optional_text(mapping: Mapping[str, Any], key: str) -> bool:
    return mapping.get(key) is None or _is_text(mapping[key])


def problem(event: object) -> str | None:
    """Why `event` is not an HTTP API v2 event we can serve, or None when it is."""
    if not isinstance(event, dict):
        return "The event is not an object."
    if event.get("version") != "2.0":
        return "Only API Gateway HTTP API events (payload format 2.0) are served."
    context = event.get("requestContext")
    http = context.get("http") if isinstance(context, dict) else None
    if not isinstance(context, dict) or not isinstance(http, dict):
        return "The event has no requestContext.http."
    if not all(_is_text(http.get(key)) for key in ("method", "path", "sourceIp")):
        return "requestContext.http needs method, path and sourceIp strings."
    if not (_optional_text(context, "requestId") and _optional_text(context, "stage")):
        return "requestContext.requestId and requestContext.stage must be strings."
    if not _is_text(event.get("rawPath")):
        return "The event has no rawPath string."
    if "rawQueryString" in event and not _is_text(event["rawQueryString"]):  # Mangum defaults only a missing one
        return "rawQueryString must be a string."
    headers = event.get("headers", {})
    if not isinstance(headers, dict) or not all(_is_text(k) and _is_text(v) for k, v in headers.items()):
        return "headers must be an object of strings."
    lowered = {k.lower(): v for k, v in headers.items()}
    if not _HOST.fullmatch(lowered.get("host", "")) or not _PORT.fullmatch(lowered.get("x-forwarded-port", "0")):
        return "The host or x-forwarded-port header is malformed."
    cookies = event.get("cookies")
    if cookies is not None and not (isinstance(cookies, list) and all(_is_text(c) for c in cookies)):
        return "cookies must be a list of strings."
    encoded = event.get("isBase64Encoded", False)
    if not isinstance(encoded, bool):
        return "isBase64Encoded must be true or false."
    if not _optional_text(event, "body"):
        return "body must be a string."
    if encoded and event.get("body"):
        try:
            base64.b64decode(event["body"], validate=True)
        except (binascii.Error, ValueError):
            return "The body is marked base64 but is not valid base64."
    return None


def request_id(event: object, context: object) -> str:
    """API Gateway's request id, as AsgiApp uses it for served requests; else Lambda's; else a fresh one."""
    request_context = event.get("requestContext") if isinstance(event, dict) else None
    gateway_id = request_context.get("requestId") if isinstance(request_context, dict) else None
    return correlation_id(gateway_id, getattr(context, "aws_request_id", None))


def proxy_response(response: Response) -> dict[str, Any]:
    """An API Gateway v2 (Lambda proxy) response."""
    return {"statusCode": response.status, "headers": dict(response.headers), "body": response.body.decode(),
            "isBase64Encoded": False}


def bad_event(reason: str, cid: str) -> dict[str, Any]:
    return proxy_response(error_response(400, "BAD_REQUEST", f"Unsupported event: {reason}", cid))


def internal_error(cid: str) -> dict[str, Any]:
    return proxy_response(error_response(500, "INTERNAL", f"Unexpected error (correlation id {cid}).", cid))
