"""The tools of an agent's MCP servers (``mcp_servers``), through the official ``mcp`` SDK
client over streamable HTTP.

For each turn, each server gets one session (:class:`McpConnection`): opened when the
turn's tools are opened, its tools listed, closed when the turn ends (``Tool.aclose``). The
session lives in a task of its own, so a server that goes away in the middle of a turn
fails the calls made to it (the model hears of it), never the turn.

The model sees a server's tool ``search`` of the server ``docs`` as ``docs__search`` (the
server's name, two underscores, the tool's name, cut to 64 characters; characters a model
API does not take become ``_``): two servers may have tools of the same name, and no MCP
tool can take the name of a built-in or HTTP tool (whose names have no ``__``... unless
someone writes one: the first of two tools of one name is kept, the second left out with a
warning).

The connection goes through the outbound guard as an owner's or admin's own configuration
(``trusted``: the URL is stored in the agent's settings, which only those who may edit the
agent set): loopback and private addresses are allowed, link-local and metadata addresses
refused unless ``OUTBOUND_ALLOWLIST`` names them. Headers as for HTTP tools (strings or
``{"credential_id"}``). A server that cannot be reached is left out with a warning in the
log; the turn goes on with the other tools.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import re
from typing import Any
from urllib.parse import urlsplit

from mcp.client.session import ClientSession
from mcp.client.streamable_http import streamable_http_client
from mcp_types import CallToolResult, EmbeddedResource, ImageContent, PaginatedRequestParams, TextContent
from mcp_types import Tool as McpToolSpec

from agenthub.errors import AgentHubError
from agenthub.outbound.http import guarded_client2
from agenthub.tools.base import MAX_RESULT_CHARS, Tool, ToolContext, ToolDeps, ToolError
from agenthub.tools.http import resolve_headers, scrub

log = logging.getLogger(__name__)

CONNECT_TIMEOUT = 15.0
"""Seconds a server has to answer the handshake and the list of its tools."""
CALL_TIMEOUT = 120.0
"""Seconds a tool call may take."""
CLOSE_TIMEOUT = 5.0
MAX_EVENT_BYTES = 4 * MAX_RESULT_CHARS
SEPARATOR = "__"
_NOT_A_NAME = re.compile(r"[^A-Za-z0-9_-]")


def tool_name(server: str, tool: str) -> str:
    """What the model calls ``tool`` of ``server``: ``<server>__<tool>``, at most 64
    characters of ``[A-Za-z0-9_-]``."""
    return _NOT_A_NAME.sub("_", f"{server}{SEPARATOR}{tool}")[:64]


def _failure(error: BaseException) -> str:
    """A short account of why a connection failed, without its traceback (an exception
    group is unwrapped to the first error in it)."""
    while isinstance(error, BaseExceptionGroup) and error.exceptions:
        error = error.exceptions[0]
    if isinstance(error, AgentHubError):
        return error.message
    if isinstance(error, TimeoutError):
        return "it did not answer in time"
    return type(error).__name__


class McpConnection:
    """One MCP server's session for one turn, held open by a task of its own."""

    def __init__(self, name: str, url: str, headers: dict[str, str], deps: ToolDeps) -> None:
        self.name = name
        self.url = url
        self.headers = headers
        self._deps = deps
        self.session: ClientSession | None = None
        self.tools: list[McpToolSpec] = []
        self._ready: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._closing = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self.failure: str | None = None
        """Why the session ended (after it was opened): the calls made from then on fail."""

    async def open(self) -> None:
        """Connect, shake hands and list the server's tools; raises if it can't."""
        self._task = asyncio.create_task(self._run(), name=f"mcp:{self.name}")
        try:
            await asyncio.wait_for(asyncio.shield(self._ready), CONNECT_TIMEOUT)
        except BaseException:
            await self.aclose()
            raise

    async def _run(self) -> None:
        try:
            async with (
                guarded_client2(self._deps.guard, trusted=True, headers=self.headers, timeout=CALL_TIMEOUT) as http,
                streamable_http_client(self.url, http_client=http, max_sse_event_size=MAX_EVENT_BYTES) as (read, write),
                ClientSession(read, write, read_timeout_seconds=CALL_TIMEOUT) as session,
            ):
                await session.initialize()
                tools: list[McpToolSpec] = []
                cursor: str | None = None
                for _ in range(20):  # pages of tools
                    listed = await session.list_tools(
                        params=None if cursor is None else PaginatedRequestParams(cursor=cursor)
                    )
                    tools.extend(listed.tools)
                    cursor = listed.next_cursor
                    if not cursor:
                        break
                self.session, self.tools = session, tools
                self._ready.set_result(None)
                await self._closing.wait()
        except BaseException as error:  # noqa: BLE001 - reported to whoever waits, never raised into the loop
            if not self._ready.done():
                self._ready.set_exception(error if isinstance(error, Exception) else RuntimeError("cancelled"))
            elif not self._closing.is_set():
                self.failure = _failure(error)
                log.warning("MCP server %s went away: %s", self.name, self.failure)
            if isinstance(error, asyncio.CancelledError):
                raise
        finally:
            self.session = None

    async def call(self, name: str, arguments: dict[str, Any]) -> CallToolResult:
        session = self.session
        if session is None:
            raise ToolError(f"the MCP server {self.name} is not connected ({self.failure or 'closed'})")
        result = await asyncio.wait_for(session.call_tool(name, arguments), CALL_TIMEOUT)
        if not isinstance(result, CallToolResult):
            raise ToolError(f"the MCP server {self.name} asked for more than a tool call's answer")
        return result

    async def aclose(self) -> None:
        self._closing.set()
        task, self._task = self._task, None
        if task is None:
            return
        try:
            # A session that never opened is not waited for: it is still connecting.
            await asyncio.wait_for(asyncio.shield(task), CLOSE_TIMEOUT if self.session is not None else 0)
        except BaseException:  # noqa: BLE001 - a session that does not end in time is cut off
            task.cancel()
            with contextlib.suppress(BaseException):
                await task
        if not self._ready.done():
            self._ready.cancel()
        elif not self._ready.cancelled():
            self._ready.exception()  # retrieved: no "exception was never retrieved" warning


def result_text(result: CallToolResult) -> str:
    """A tool call's result as text for the model: its text content, other content
    described; the structured content as JSON when there is no text."""
    parts: list[str] = []
    for block in result.content:
        if isinstance(block, TextContent):
            parts.append(block.text)
        elif isinstance(block, ImageContent):
            parts.append(f"[image: {block.mime_type}]")
        elif isinstance(block, EmbeddedResource):
            text = getattr(block.resource, "text", None)
            parts.append(text if isinstance(text, str) else f"[resource: {block.resource.uri}]")
        else:
            parts.append(f"[{getattr(block, 'type', 'content')}]")
    if not parts and result.structured_content is not None:
        return json.dumps(result.structured_content, ensure_ascii=False, default=str)
    return "\n".join(parts)


class McpTool(Tool):
    """One tool of an MCP server, as the model sees it."""

    def __init__(self, connection: McpConnection, spec: McpToolSpec) -> None:
        self.connection = connection
        self.remote_name = spec.name
        self.name = tool_name(connection.name, spec.name)
        self.description = spec.description or spec.title or spec.name
        schema = dict(spec.input_schema or {})
        self.parameters = schema if schema.get("type") == "object" else {"type": "object", "properties": {}}

    async def run(self, arguments: dict[str, Any], context: ToolContext) -> str:
        try:
            result = await self.connection.call(self.remote_name, arguments)
        except TimeoutError:
            raise ToolError(f"{self.name} did not answer within {CALL_TIMEOUT:g} seconds") from None
        except (ToolError, AgentHubError):
            raise
        except Exception as error:  # noqa: BLE001 - an MCP error answer, a broken stream...
            message = getattr(getattr(error, "error", None), "message", None) or type(error).__name__
            raise ToolError(f"{self.name} failed: {message}") from None
        text = scrub(result_text(result), self.connection.headers)
        if result.is_error:
            raise ToolError(text[:MAX_RESULT_CHARS] or f"{self.name} failed")
        return text

    async def aclose(self) -> None:
        await self.connection.aclose()


async def _open_server(spec: dict[str, Any], deps: ToolDeps, context: ToolContext) -> list[Tool]:
    name = str(spec["name"])
    host = urlsplit(str(spec["url"])).hostname
    try:
        headers = await resolve_headers(dict(spec.get("headers") or {}), deps, context)
        connection = McpConnection(name, str(spec["url"]), headers, deps)
        await connection.open()
    except Exception as error:  # noqa: BLE001 - the turn goes on without this server's tools
        log.warning(
            "MCP server %s (%s) left out of the turn: %s", name, host, _failure(error),
            extra={"agent_id": context.agent_id},
        )
        return []
    if not connection.tools:
        await connection.aclose()
    return [McpTool(connection, tool) for tool in connection.tools]


async def mcp_tools(settings: dict[str, Any], deps: ToolDeps, context: ToolContext) -> list[Tool]:
    """The tools of an agent's MCP servers, each server's session open for the turn (closed
    by the tools' ``aclose``)."""
    servers = settings.get("mcp_servers") or []
    if not servers:
        return []
    opened = await asyncio.gather(*(_open_server(spec, deps, context) for spec in servers))
    return [tool for tools in opened for tool in tools]
