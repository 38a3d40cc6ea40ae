"""The MCP server for building scenario bots, with the official ``mcp`` SDK (its low-level
``Server``: the tools and their JSON Schemas are :mod:`agenthub.mcp.tools`).

Two ways in:

- Streamable HTTP at ``/mcp`` in the app (:class:`McpEndpoint`, stateless: any gateway
  answers any request), authenticated like every request: ``Authorization: Bearer`` with
  an API key or an access token, resolved by the app's authenticator; 401 without. Every
  tool call acts as that caller, in its organisation.
- stdio (``agenthub mcp``, :func:`run_stdio`): the same tools, as the API key the CLI was
  given, in a process that runs the app's services itself.

A tool that fails answers a tool error (``isError``) saying what to fix: arguments a REST
body could not hold either (nested deeper than a body may be, a NUL character: see
:mod:`agenthub.json_input`), the validation errors of its arguments (where and why), or
the services' InvalidInput, NotFound and Conflict messages."""

from __future__ import annotations

import functools
import logging
from collections.abc import Awaitable, Callable
from contextlib import AbstractAsyncContextManager
from typing import Any

import orjson
from mcp.server import Server
from mcp.server.context import ServerRequestContext
from mcp.server.stdio import stdio_server
from mcp.server.transport_security import TransportSecuritySettings
from mcp.types import (
    CallToolRequestParams,
    CallToolResult,
    ListToolsResult,
    PaginatedRequestParams,
    TextContent,
    Tool,
    ToolAnnotations,
)
from pydantic import ValidationError
from starlette.requests import HTTPConnection
from starlette.types import Receive, Scope, Send

from agenthub import __version__
from agenthub.caller import Caller, resolve_caller
from agenthub.errors import AgentHubError, Unauthorized
from agenthub.json_input import problem_in
from agenthub.mcp.tools import BY_NAME, TOOLS, Backend, input_schema

log = logging.getLogger(__name__)

INSTRUCTIONS = (
    "Build, test and publish AgentHub scenario bots: bots made of steps (what the bot sends) linked by "
    "connections (rules on the user's message, an HTTP answer, code or an LLM, and the next step). "
    "Typical flow: create_bot, create_step (the first one is where sessions start), "
    "create_connection_group on a step, create_connection with rules and next_step_id, then test_bot to "
    "talk to the draft, and publish_bot so real users get it. import_bot builds a whole bot from one "
    "document; get_bot and export_bot show what is there."
)

Resolver = Callable[[ServerRequestContext[Any, Any]], Awaitable[tuple[Backend, Caller]]]
"""Who a tool call is from, and the services it reaches."""


def backend_of(state: Any) -> Backend:
    """The tools' collaborators from an app's state (once its lifespan has started)."""
    return Backend(
        sessions=state.session_factory, gateway=state.gateway, supervisor=state.supervisor,
        directory=state.agent_directory,
    )


@functools.cache
def _tools() -> tuple[Tool, ...]:
    """The tools as MCP lists them: their JSON Schemas are made once per process (each app,
    and each test's, would make them again)."""
    return tuple(_tool(spec) for spec in TOOLS)


def _tool(spec: Any) -> Tool:
    return Tool(
        name=spec.name, description=spec.description, input_schema=input_schema(spec),
        annotations=ToolAnnotations(
            read_only_hint=spec.read_only, destructive_hint=spec.destructive, open_world_hint=False,
        ),
    )


def _error(text: str) -> CallToolResult:
    return CallToolResult(content=[TextContent(type="text", text=text)], is_error=True)


def _invalid_arguments(error: ValidationError) -> str:
    problems = []
    for item in error.errors(include_url=False, include_input=False):
        where = ".".join(str(part) for part in item["loc"]) or "(the arguments)"
        problems.append(f"{where}: {item['msg']}")
    return "invalid arguments: " + "; ".join(problems)


def _service_error(error: AgentHubError) -> str:
    text = f"{error.code}: {error.message}"
    extra = getattr(error, "extra", None)
    if extra:
        text += " " + orjson.dumps(extra, default=str).decode()
    return text


def build_server(resolve: Resolver) -> Server[Any]:
    """The MCP server of the bot-building tools; ``resolve`` says who each call is from."""
    tools = list(_tools())

    async def list_tools(
        ctx: ServerRequestContext[Any, Any], params: PaginatedRequestParams | None
    ) -> ListToolsResult:
        return ListToolsResult(tools=tools)

    async def call_tool(ctx: ServerRequestContext[Any, Any], params: CallToolRequestParams) -> CallToolResult:
        spec = BY_NAME.get(params.name)
        if spec is None:
            return _error(f"no tool {params.name!r}: the tools are {', '.join(BY_NAME)}")
        arguments = dict(params.arguments or {})
        found = problem_in(arguments)  # what a REST body may not hold either (too deep, a NUL character)
        if found is not None:
            return _error(f"invalid arguments: {found[0]}: {found[1]}")
        try:
            backend, caller = await resolve(ctx)
            result = await spec.handler(backend, caller, arguments)
        except ValidationError as error:
            return _error(_invalid_arguments(error))
        except AgentHubError as error:
            log.info("mcp tool refused", extra={"tool": spec.name, "code": error.code})
            return _error(_service_error(error))
        text = orjson.dumps(result, default=str).decode()
        return CallToolResult(content=[TextContent(type="text", text=text)], structured_content=result)

    def schema_of(name: str) -> dict[str, Any] | None:
        spec = BY_NAME.get(name)
        return None if spec is None else input_schema(spec)

    return Server(
        "agenthub", version=__version__, instructions=INSTRUCTIONS,
        get_tool_input_schema=schema_of, on_list_tools=list_tools, on_call_tool=call_tool,
    )


async def _from_request(ctx: ServerRequestContext[Any, Any]) -> tuple[Backend, Caller]:
    request = ctx.request
    if not isinstance(request, HTTPConnection):
        raise Unauthorized("no HTTP request to find the caller in")
    app = request.scope["app"]
    caller = await resolve_caller(request, app.state.authenticator)
    if caller is None:
        raise Unauthorized("log in first: send 'Authorization: Bearer <API key or access token>'")
    return backend_of(app.state), caller


class McpEndpoint:
    """``/mcp``: the MCP server over streamable HTTP, as an ASGI endpoint of the app. The
    caller is resolved before the SDK sees the request (401 without valid credentials);
    enter :meth:`run` in the app's lifespan."""

    def __init__(self) -> None:
        self.server = build_server(_from_request)
        # The app guards host names and origins itself (channels/hosts.py, channels/origins.py).
        self.server.streamable_http_app(
            stateless_http=True, json_response=True,
            transport_security=TransportSecuritySettings(enable_dns_rebinding_protection=False),
        )
        self.manager = self.server.session_manager

    def run(self) -> AbstractAsyncContextManager[None]:
        return self.manager.run()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        connection = HTTPConnection(scope)
        caller = await resolve_caller(connection, scope["app"].state.authenticator)
        if caller is None:
            raise Unauthorized("log in first: send 'Authorization: Bearer <API key or access token>'")
        await self.manager.handle_request(scope, receive, send)


async def run_stdio(state: Any, token: str) -> None:
    """Serve the tools over stdin/stdout as the caller ``token`` (an API key or access
    token) is, with the services of an app whose lifespan is running (``state``: its
    ``app.state``). Unauthorized when the token is not valid."""
    caller = await state.authenticator.caller_for(token)
    backend = backend_of(state)

    async def resolve(ctx: ServerRequestContext[Any, Any]) -> tuple[Backend, Caller]:
        return backend, caller

    server = build_server(resolve)
    async with stdio_server() as (read_stream, write_stream):
        await server.run(read_stream, write_stream, server.create_initialization_options())
