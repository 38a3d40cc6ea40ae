"""A reverse proxy on 127.0.0.1 that serves an upstream under a path prefix and strips it,
as nginx's ``location /web/ { proxy_pass http://agenthub/; }`` does: HTTP (streamed both
ways, so SSE arrives event by event) and WebSockets, forwarded with httpx and websockets
under uvicorn."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import httpx
import uvicorn
from starlette.types import Receive, Scope, Send
from websockets.asyncio.client import ClientConnection
from websockets.exceptions import ConnectionClosed, InvalidStatus

from tests.support.server import free_port
from tests.support.ws import connect

HOP_BY_HOP = frozenset({
    b"connection", b"keep-alive", b"proxy-connection", b"transfer-encoding", b"upgrade", b"te", b"trailer",
    b"content-length",
})
WS_HANDSHAKE = frozenset({
    b"host", b"connection", b"upgrade", b"sec-websocket-key", b"sec-websocket-version",
    b"sec-websocket-extensions", b"sec-websocket-protocol",
})


class PrefixProxy:
    """The ASGI app of the proxy: ``{prefix}/x`` goes to ``{upstream}/x``; anything else is 404."""

    def __init__(self, prefix: str, upstream: str) -> None:
        self.prefix = prefix
        self.upstream = upstream.rstrip("/")
        self.client = httpx.AsyncClient(base_url=self.upstream, timeout=60)

    def _inner(self, scope: Scope) -> str | None:
        path: str = scope["path"]
        if path != self.prefix and not path.startswith(self.prefix + "/"):
            return None
        inner = path[len(self.prefix):] or "/"
        query = scope.get("query_string", b"").decode("latin-1")
        return inner + (f"?{query}" if query else "")

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            while (await receive())["type"] != "lifespan.shutdown":
                await send({"type": "lifespan.startup.complete"})
            await self.client.aclose()
            await send({"type": "lifespan.shutdown.complete"})
            return
        target = self._inner(scope)
        if scope["type"] == "websocket":
            await self._websocket(scope, receive, send, target)
        elif target is None:
            await _answer(send, 404, b"not under the prefix")
        else:
            await self._http(scope, receive, send, target)

    async def _http(self, scope: Scope, receive: Receive, send: Send, target: str) -> None:
        body = bytearray()
        while True:
            message = await receive()
            body.extend(message.get("body", b""))
            if not message.get("more_body"):
                break
        headers = [(k, v) for k, v in scope["headers"] if k.lower() not in HOP_BY_HOP]
        request = self.client.build_request(scope["method"], target, headers=headers, content=bytes(body))
        response = await self.client.send(request, stream=True, follow_redirects=False)
        try:
            kept = [(k, v) for k, v in response.headers.raw if k.lower() not in HOP_BY_HOP]
            await send({"type": "http.response.start", "status": response.status_code, "headers": kept})
            async for chunk in response.aiter_raw():
                await send({"type": "http.response.body", "body": chunk, "more_body": True})
            await send({"type": "http.response.body", "body": b""})
        finally:
            await response.aclose()

    async def _websocket(self, scope: Scope, receive: Receive, send: Send, target: str | None) -> None:
        await receive()  # websocket.connect
        if target is None:
            await send({"type": "websocket.close", "code": 1008})
            return
        headers = [(k.decode("latin-1"), v.decode("latin-1")) for k, v in scope["headers"] if k.lower() not in WS_HANDSHAKE]
        url = self.upstream.replace("http", "ws", 1) + target
        try:
            upstream = await connect(url, additional_headers=headers, subprotocols=scope.get("subprotocols") or None)
        except InvalidStatus as refused:
            await send({"type": "websocket.http.response.start", "status": refused.response.status_code, "headers": []})
            await send({"type": "websocket.http.response.body", "body": refused.response.body or b""})
            return
        async with upstream:
            await send({"type": "websocket.accept", "subprotocol": upstream.subprotocol})
            await _pump(upstream, receive, send)


async def _pump(upstream: ClientConnection, receive: Receive, send: Send) -> None:
    async def downstream_to_upstream() -> None:
        while True:
            message = await receive()
            if message["type"] == "websocket.disconnect":
                await upstream.close(message.get("code", 1000))
                return
            await upstream.send(message["text"] if message.get("text") is not None else message["bytes"])

    async def upstream_to_downstream() -> None:
        try:
            async for data in upstream:
                key = "text" if isinstance(data, str) else "bytes"
                await send({"type": "websocket.send", key: data})
        except ConnectionClosed:
            pass
        code = upstream.close_code or 1000
        with contextlib.suppress(Exception):  # the client went first
            await send({"type": "websocket.close", "code": code, "reason": upstream.close_reason or ""})

    tasks = [asyncio.create_task(downstream_to_upstream()), asyncio.create_task(upstream_to_downstream())]
    _done, pending = await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
    for task in pending:
        task.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)


async def _answer(send: Send, status: int, body: bytes) -> None:
    await send({"type": "http.response.start", "status": status, "headers": [(b"content-type", b"text/plain")]})
    await send({"type": "http.response.body", "body": body})


@asynccontextmanager
async def prefix_proxy(prefix: str, upstream: str) -> AsyncIterator[str]:
    """Run the proxy in this event loop; yields its address (``http://127.0.0.1:P``)."""
    port = free_port()
    config = uvicorn.Config(
        PrefixProxy(prefix, upstream), host="127.0.0.1", port=port, log_level="warning", ws="websockets-sansio",
        proxy_headers=False,
    )
    server = uvicorn.Server(config)
    task = asyncio.create_task(server.serve())
    while not server.started:
        if task.done():
            task.result()
            raise RuntimeError("the proxy stopped during start-up")
        await asyncio.sleep(0.02)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        await task
