"""The ASGI app: one for uvicorn locally and for Mangum on Lambda. Reads the body with a cap."""
from __future__ import annotations

import asyncio
from typing import Any

from api.http import Api
from api.messages import Request, Response, error_response


class AsgiApp:
    def __init__(self, api: Api):
        self.api = api

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] == "lifespan":
            while True:
                message = await receive()
                if message["type"] == "lifespan.startup":
                    await send({"type": "lifespan.startup.complete"})
                elif message["type"] == "lifespan.shutdown":
                    await send({"type": "lifespan.shutdown.complete"})
                    return
        if scope["type"] != "http":
            return
        headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope.get("headers", [])}
        stage, path = self._stage_and_path(scope)
        cap = self.api.settings.body_cap(path)
        declared = headers.get("content-length", "")
        if declared.isdigit() and int(declared) > cap:
            await self._send(send, error_response(413, "BODY_TOO_LARGE", f"Request body is over {cap} bytes."))
            return
        chunks, size = [], 0
        while True:
            message = await receive()
            if message["type"] == "http.disconnect":
                return
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > cap:
                await self._send(send, error_response(413, "BODY_TOO_LARGE", f"Request body is over {cap} bytes."))
                return
            chunks.append(chunk)
            if not message.get("more_body"):
                break
        aws = scope.get("aws.event") or {}
        request = Request(method=scope["method"], path=path, headers=headers, body=b"".join(chunks), stage=stage,
                          aws_request_id=(aws.get("requestContext") or {}).get("requestId"))
        if aws:
            response = self.api.handle(request)  # Lambda: one request per container, no thread hop
        else:
            # Local server: resolvers do blocking DynamoDB I/O, so concurrent requests run on threads.
            response = await asyncio.get_running_loop().run_in_executor(None, self.api.handle, request)
        await self._send(send, response)

    @staticmethod
    def _stage_and_path(scope: dict[str, Any]) -> tuple[str | None, str]:
        """API Gateway puts a named stage in front of the path (`/prod/graphql`); strip it."""
        path = scope.get("path") or "/"
        aws = scope.get("aws.event") or {}
        stage = (aws.get("requestContext") or {}).get("stage")
        if stage and stage != "$default" and path.startswith(f"/{stage}/"):
            path = path[len(stage) + 1:]
        return (stage if stage != "$default" else None), path

    @staticmethod
    async def _send(send: Any, response: Response) -> None:
        await send({"type": "http.response.start", "status": response.status,
                    "headers": [(k.encode(), v.encode()) for k, v in response.headers.items()]})
        await send({"type": "http.response.body", "body": response.body})
