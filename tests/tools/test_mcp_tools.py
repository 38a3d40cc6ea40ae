"""The tools of an MCP server (the SDK's own server, on 127.0.0.1), through the SDK client."""

from __future__ import annotations

import json
from typing import Any

from agenthub.config import Settings
from agenthub.outbound.guard import OutboundGuard
from agenthub.tools.base import ToolContext, ToolDeps
from agenthub.tools.mcp import tool_name
from agenthub.tools.registry import ToolRegistry
from tests.runtime.helpers import migrated_sessions
from tests.support.server import free_port
from tests.tools.conftest import McpTarget


def _context() -> ToolContext:
    return ToolContext(org_id="default", agent_id="a1", agent_settings={}, chat_id="c1", message={})


async def _open(sqlite_url: str, settings: dict[str, Any], allow: str = ""):  # type: ignore[no-untyped-def]
    engine, sessions = await migrated_sessions(sqlite_url)
    deps = ToolDeps(settings=Settings(_env_file=None), sessions=sessions, guard=OutboundGuard.from_allowlist(allow.split(",")))
    return engine, await ToolRegistry(deps).open(settings, _context())


async def test_the_tools_of_a_server_are_listed_prefixed_and_called(sqlite_url: str, mcp_target: McpTarget) -> None:
    settings = {"mcp_servers": [{"name": "weather", "url": mcp_target.url, "headers": {"X-Team": "blue"}}]}
    # Loopback is allowed: an MCP server is an owner's or admin's own configuration.
    engine, toolset = await _open(sqlite_url, settings)
    try:
        assert sorted(toolset.names) == ["weather__broken", "weather__forecast", "weather__stats"]
        spec = next(s for s in toolset.specs() if s["function"]["name"] == "weather__forecast")["function"]
        assert spec["description"] == "The weather forecast of a city."
        assert "city" in spec["parameters"]["properties"]
        forecast = await toolset.call("weather__forecast", {"city": "Paris"}, _context())
        stats = await toolset.call("weather__stats", {"n": 3}, _context())
        broken = await toolset.call("weather__broken", {}, _context())
        wrong = await toolset.call("weather__stats", {"n": "many"}, _context())
    finally:
        await toolset.aclose()
        await engine.dispose()
    assert forecast == ("sunny and 24 degrees in Paris", True)
    assert json.loads(stats[0]) == {"n": 3, "double": 6} and stats[1]
    assert broken[1] is False and "the weather station is down" in broken[0]
    assert wrong[1] is False and wrong[0].startswith("error: ")
    assert mcp_target.headers_seen and all(seen.get("x-team") == "blue" for seen in mcp_target.headers_seen)


async def test_a_server_that_cannot_be_reached_is_left_out(sqlite_url: str, mcp_target: McpTarget) -> None:
    settings = {"mcp_servers": [
        {"name": "gone", "url": f"http://127.0.0.1:{free_port()}/mcp"},
        {"name": "metadata", "url": "http://169.254.169.254/mcp"},
        {"name": "weather", "url": mcp_target.url},
    ]}
    engine, toolset = await _open(sqlite_url, settings)
    try:
        names = toolset.names
    finally:
        await toolset.aclose()
        await engine.dispose()
    assert sorted(names) == ["weather__broken", "weather__forecast", "weather__stats"]


def test_names_are_prefixed_and_fit_what_models_take() -> None:
    assert tool_name("docs", "search") == "docs__search"
    assert tool_name("docs", "files.read v2") == "docs__files_read_v2"
    assert len(tool_name("d" * 60, "long_tool")) == 64
