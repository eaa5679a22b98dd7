"""Requests and responses as the API sees them, whatever carried them (Lambda event or ASGI)."""
from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

JSON = "application/json"


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


def json_response(status: int, payload: Any, correlation_id: str | None = None) -> Response:
    headers = {"content-type": JSON}
    if correlation_id:
        headers["x-correlation-id"] = correlation_id
    return Response(status, json.dumps(payload, separators=(",", ":")).encode(), headers)


def error_response(status: int, code: str, message: str, correlation_id: str | None = None) -> Response:
    return json_response(status, {"errors": [{"message": message, "extensions": {"code": code}}]},
                         correlation_id)
