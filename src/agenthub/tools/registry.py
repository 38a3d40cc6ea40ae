"""An agent's tools for one turn: the built-in tools it lists by name, its HTTP API tools
and the tools of its MCP servers, called by name with their failures turned into errors the
model can react to."""

from __future__ import annotations

import importlib
import json
import logging
from collections.abc import Callable
from types import ModuleType
from typing import Any

from agenthub.errors import AgentHubError
from agenthub.ops import tracing
from agenthub.tools.base import MAX_RESULT_CHARS, Tool, ToolContext, ToolDeps, ToolError
from agenthub.tools.http import http_tools
from agenthub.tools.mcp import mcp_tools

log = logging.getLogger(__name__)

BUILTIN_PACKAGE = "agenthub.tools.builtin"


def builtin_module(name: str) -> ModuleType:
    """The module of the built-in tool ``name`` (``agenthub/tools/builtin/<name>.py``)."""
    return importlib.import_module(f"{BUILTIN_PACKAGE}.{name}")


class Toolset:
    """The tools of one turn, by name."""

    def __init__(self, tools: list[Tool]) -> None:
        self._opened = list(tools)
        """Every tool opened for the turn, kept or not: each is closed."""
        self._tools: dict[str, Tool] = {}
        for tool in tools:
            if tool.name in self._tools:
                log.warning("two tools named %r: the first is kept", tool.name)
                continue
            self._tools[tool.name] = tool

    def __bool__(self) -> bool:
        return bool(self._tools)

    @property
    def names(self) -> list[str]:
        return list(self._tools)

    def specs(self) -> list[dict[str, Any]]:
        """The tools as the model is told of them (OpenAI function specs)."""
        return [tool.spec() for tool in self._tools.values()]

    async def call(self, name: str, arguments: Any, context: ToolContext) -> tuple[str, bool]:
        """Run tool ``name``: its result for the model (cut at :data:`MAX_RESULT_CHARS`), and
        whether it succeeded. Never raises: a failure is ``error: <what went wrong>``."""
        # The tool call's span: the tool's name and outcome, never its arguments or result.
        with tracing.span("agenthub.tool", **{"tool.name": name, "agent.id": context.agent_id}) as span:
            text, ok = await self._call(name, arguments, context)
            span.set("tool.ok", ok)
            if not ok:
                span.fail("the tool answered an error")
            return text, ok

    async def _call(self, name: str, arguments: Any, context: ToolContext) -> tuple[str, bool]:
        tool = self._tools.get(name)
        if tool is None:
            return f"error: there is no tool named {name!r} (tools: {', '.join(self._tools) or 'none'})", False
        if isinstance(arguments, str):
            try:
                arguments = json.loads(arguments or "{}")
            except json.JSONDecodeError:
                return "error: the arguments are not valid JSON", False
        if not isinstance(arguments, dict):
            return "error: the arguments must be a JSON object", False
        try:
            result = await tool.run(arguments, context)
        except ToolError as error:
            return f"error: {error.message}", False
        except AgentHubError as error:  # a refusal of the outbound guard, a missing credential...
            return f"error: {error.message}", False
        except Exception as error:  # noqa: BLE001 - the model hears of it, the turn goes on
            log.warning("tool %s failed: %s", name, type(error).__name__, extra={"agent_id": context.agent_id})
            return f"error: the tool failed ({type(error).__name__})", False
        text = result if isinstance(result, str) else json.dumps(result, ensure_ascii=False, default=str)
        if len(text) > MAX_RESULT_CHARS:
            text = text[:MAX_RESULT_CHARS] + f"\n[cut: the result was {len(text)} characters]"
        return text, True

    async def aclose(self) -> None:
        for tool in self._opened:
            try:
                await tool.aclose()
            except Exception:  # noqa: BLE001 - closing one does not stop closing the rest
                log.warning("closing tool %s failed", tool.name, exc_info=True)


class ToolRegistry:
    """Builds each turn's :class:`Toolset` from an agent's settings; built-in tools are made
    once per process, on first use."""

    def __init__(self, deps: ToolDeps) -> None:
        self.deps = deps
        self._builtins: dict[str, Tool] = {}

    def builtin(self, name: str) -> Tool:
        tool = self._builtins.get(name)
        if tool is None:
            build: Callable[[ToolDeps], Tool] = builtin_module(name).build
            tool = self._builtins[name] = build(self.deps)
        return tool

    async def open(self, settings: dict[str, Any], context: ToolContext) -> Toolset:
        """The tools of an agent with stored ``settings`` for the turn of ``context``: its
        built-in tools, its HTTP API tools and the tools of its MCP servers (whose sessions
        stay open until :meth:`Toolset.aclose`)."""
        tools: list[Tool] = [self.builtin(name) for name in settings.get("tools") or ()]
        tools.extend(http_tools(settings, self.deps))
        tools.extend(await mcp_tools(settings, self.deps, context))
        return Toolset(tools)
