"""Fixtures of the tool tests: a local HTTP server and a local MCP server."""

from __future__ import annotations

import threading
from collections.abc import Iterator

import pytest
import uvicorn
from mcp.server.mcpserver import MCPServer
from mcp.server.mcpserver.exceptions import ToolError

from tests.support.server import free_port
from tests.support.target import Target


@pytest.fixture
def target() -> Iterator[Target]:
    with Target() as server:
        yield server


class McpTarget:
    """An MCP server (the SDK's ``MCPServer``) on 127.0.0.1, streamable HTTP at ``/mcp``."""

    def __init__(self) -> None:
        self.headers_seen: list[dict[str, str]] = []
        self.server = MCPServer("weather")

        @self.server.tool()
        def forecast(city: str) -> str:
            """The weather forecast of a city."""
            return f"sunny and 24 degrees in {city}"

        @self.server.tool()
        def stats(n: int) -> dict[str, int]:
            """Numbers about n."""
            return {"n": n, "double": n * 2}

        @self.server.tool()
        def broken() -> str:
            """Always fails."""
            raise ToolError("the weather station is down")

        app = self.server.streamable_http_app()
        seen = self.headers_seen

        async def recording(scope, receive, send):  # type: ignore[no-untyped-def]
            if scope["type"] == "http":
                seen.append({k.decode().lower(): v.decode() for k, v in scope["headers"]})
            await app(scope, receive, send)

        self.port = free_port()
        self._server = uvicorn.Server(uvicorn.Config(recording, host="127.0.0.1", port=self.port, log_level="warning"))
        self._thread = threading.Thread(target=self._server.run, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/mcp"

    def __enter__(self) -> McpTarget:
        started = threading.Event()
        original = self._server.startup

        async def startup(sockets=None):  # type: ignore[no-untyped-def]
            await original(sockets)
            started.set()

        self._server.startup = startup  # type: ignore[method-assign]
        self._thread.start()
        assert started.wait(10), "the MCP server did not start"
        return self

    def __exit__(self, *exc_info: object) -> None:
        self._server.should_exit = True
        self._thread.join(timeout=10)


@pytest.fixture
def mcp_target() -> Iterator[McpTarget]:
    with McpTarget() as server:
        yield server
