"""Events shaped as AWS sends them, for the tests and benchmarks that drive the Lambda handler."""
from __future__ import annotations

import base64
import time
import uuid
from typing import Any

API_HOST = "abc123.execute-api.us-east-1.amazonaws.com"


def http_api_event(body: bytes | str = b"", *, method: str = "POST", path: str = "/graphql",
                   stage: str = "$default", token: str | None = None, base64_body: bool = False,
                   headers: dict[str, str] | None = None, request_id: str | None = None,
                   raw_query_string: str = "", user_agent: str = "kizuna-tests") -> dict[str, Any]:
    """An API Gateway HTTP API (payload format 2.0) event. With a named stage, `path` carries the
    stage in front (`/prod/graphql`) as API Gateway's rawPath does; the route key does not."""
    raw = body.encode() if isinstance(body, str) else body
    h = {"accept": "application/json", "content-type": "application/json", "host": API_HOST,
         "user-agent": user_agent, "x-forwarded-for": "203.0.113.7", "x-forwarded-port": "443",
         "x-forwarded-proto": "https", "x-amzn-trace-id": "Root=1-67891233-abcdef012345678912345678"}
    if raw:
        h["content-length"] = str(len(raw))
    if token:
        h["authorization"] = f"Bearer {token}"
    h.update(headers or {})
    now = time.time()
    route_path = path[len(stage) + 1:] if stage != "$default" and path.startswith(f"/{stage}/") else path
    route_key = "$default" if stage == "$default" else f"{method} {route_path}"
    event: dict[str, Any] = {
        "version": "2.0",
        "routeKey": route_key,
        "rawPath": path,
        "rawQueryString": raw_query_string,
        "headers": h,
        "requestContext": {
            "accountId": "123456789012", "apiId": "abc123", "domainName": API_HOST, "domainPrefix": "abc123",
            "http": {"method": method, "path": path, "protocol": "HTTP/1.1", "sourceIp": "203.0.113.7",
                     "userAgent": user_agent},
            "requestId": request_id or f"{uuid.uuid4().hex[:14]}=",
            "routeKey": route_key,
            "stage": stage,
            "time": time.strftime("%d/%b/%Y:%H:%M:%S +0000", time.gmtime(now)),
            "timeEpoch": int(now * 1000),
        },
        "isBase64Encoded": base64_body,
    }
    if raw:
        event["body"] = base64.b64encode(raw).decode() if base64_body else raw.decode()
    if raw_query_string:
        event["queryStringParameters"] = dict(p.split("=", 1) for p in raw_query_string.split("&"))
    return event
