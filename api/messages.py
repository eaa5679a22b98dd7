"""Requests and responses as the API sees them, whatever carried them (Lambda event or ASGI)."""
from __future__ import annotations

import json
import re
import uuid
from dataclasses import dataclass, field
from typing import Any

JSON = "application/json"
GRAPHQL_RESPONSE = "application/graphql-response+json"

# Request bodies nest at most this many arrays/objects. GraphQL variables of this schema need a few
# levels; a bound keeps deep input away from recursive code (json.dumps, graphql-core's coercion).
MAX_JSON_DEPTH = 32

# What we accept as a correlation id: it is echoed in a response header and written to every log
# line, so only characters that cannot split a header or forge a log field.
_CORRELATION_ID = re.compile(r"[A-Za-z0-9._:=-]{1,100}")
# graphql-core names near misses ("Did you mean 'referralCode'?"), which maps the schema for a caller
# who may not introspect it.
_SUGGESTION = re.compile(r"\s*Did you mean [^?]*\?")


@dataclass
class Request:
    method: str
    path: str
    headers: dict[str, str]  # lower-case names
    body: bytes
    stage: str | None = None
    aws_request_id: str | None = None


@dataclass
class Response:
    status: int
    body: bytes
    headers: dict[str, str] = field(default_factory=lambda: {"content-type": JSON})


class JsonRefused(ValueError):
    """The body is not JSON we are willing to read; the message is written for the caller."""


def read_json(body: bytes, max_depth: int = MAX_JSON_DEPTH) -> Any:
    too_deep = f"The JSON is nested more than {max_depth} levels deep."
    try:
        value = json.loads(body)
    except RecursionError:  # the C decoder's own guard, hit long before our bound would be checked
        raise JsonRefused(too_deep) from None
    except ValueError:  # UnicodeDecodeError included
        raise JsonRefused("The body is not valid JSON.") from None
    # Iterative on purpose: a recursive walk would fail on exactly the input it is meant to refuse.
    stack = [(value, 1)]
    while stack:
        node, depth = stack.pop()
        children = node.values() if isinstance(node, dict) else node if isinstance(node, list) else ()
        for child in children:
            if isinstance(child, (dict, list)):
                if depth + 1 > max_depth:
                    raise JsonRefused(too_deep)
                stack.append((child, depth + 1))
    return value


def correlation_id(*candidates: object) -> str:
    """The first candidate that is a safe id, else a fresh one."""
    for candidate in candidates:
        if isinstance(candidate, str) and _CORRELATION_ID.fullmatch(candidate):
            return candidate
    return uuid.uuid4().hex


def _without_suggestions(payload: Any) -> Any:
    errors = payload.get("errors") if isinstance(payload, dict) else None
    if not isinstance(errors, list):
        return payload
    cleaned = [{**e, "message": _SUGGESTION.sub("", e["message"])}
               if isinstance(e, dict) and isinstance(e.get("message"), str) else e for e in errors]
    return {**payload, "errors": cleaned}


def json_response(status: int, payload: Any, correlation_id: str | None = None, *, media_type: str = JSON,
                  suggestions: bool = False) -> Response:
    """Every JSON body leaves through here, so this is where suggestions are dropped: whichever layer
    wrote an error (validation, variable coercion, a future one), a production caller never sees them."""
    if not suggestions:
        payload = _without_suggestions(payload)
    headers = {"content-type": media_type}
    if correlation_id:
        headers["x-correlation-id"] = correlation_id
    return Response(status, json.dumps(payload, separators=(",", ":")).encode(), headers)


def error_response(status: int, code: str, message: str, correlation_id: str | None = None, *,
                   media_type: str = JSON) -> Response:
    return json_response(status, {"errors": [{"message": message, "extensions": {"code": code}}]},
                         correlation_id, media_type=media_type)
