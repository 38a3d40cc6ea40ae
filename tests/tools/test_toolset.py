"""A turn's tools: called by name, failures told to the model as errors it can react to
(never raised into the turn), results cut at what may reach the model, and every built-in
tool the settings name has its module."""

from __future__ import annotations

from typing import Any

import pytest

from agenthub.agents.intelligence import BuiltinTool
from agenthub.errors import NotFound
from agenthub.tools.base import MAX_RESULT_CHARS, Tool, ToolContext, ToolError
from agenthub.tools.registry import Toolset, builtin_module


class Echo(Tool):
    name = "echo"
    description = "Says back what it is given"
    parameters = {"type": "object", "properties": {"text": {"type": "string"}}}

    async def run(self, arguments: dict[str, Any], context: ToolContext) -> str:
        text = arguments.get("text", "")
        if text == "refuse":
            raise ToolError("not that")
        if text == "missing":
            raise NotFound("no such thing")
        if text == "crash":
            raise RuntimeError("internal detail that must not reach the model")
        return text * int(arguments.get("times", 1))


CONTEXT = ToolContext(org_id="o", agent_id="a", agent_settings={}, chat_id="c", message={})


@pytest.mark.parametrize(
    ("arguments", "expected"),
    [
        ({"text": "hi"}, ("hi", True)),
        ('{"text": "from json"}', ("from json", True)),
        ("{not json", ("error: the arguments are not valid JSON", False)),
        ([1, 2], ("error: the arguments must be a JSON object", False)),
        ({"text": "refuse"}, ("error: not that", False)),
        ({"text": "missing"}, ("error: no such thing", False)),
        ({"text": "crash"}, ("error: the tool failed (RuntimeError)", False)),
    ],
)
async def test_a_call_never_raises(arguments: Any, expected: tuple[str, bool]) -> None:
    assert await Toolset([Echo()]).call("echo", arguments, CONTEXT) == expected


async def test_an_unknown_tool_is_named_with_the_tools_there_are() -> None:
    result, ok = await Toolset([Echo()]).call("weather", {}, CONTEXT)
    assert not ok and result == "error: there is no tool named 'weather' (tools: echo)"


async def test_a_long_result_is_cut_saying_so() -> None:
    result, ok = await Toolset([Echo()]).call("echo", {"text": "x", "times": MAX_RESULT_CHARS + 10}, CONTEXT)
    assert ok and result.startswith("x" * MAX_RESULT_CHARS)
    assert result.endswith(f"[cut: the result was {MAX_RESULT_CHARS + 10} characters]")


def test_specs_are_openai_functions() -> None:
    [spec] = Toolset([Echo()]).specs()
    assert spec == {"type": "function", "function": {
        "name": "echo", "description": "Says back what it is given", "parameters": Echo.parameters,
    }}


def test_memory_user_is_the_account_then_the_platform_user_never_user_data() -> None:
    def context(message: dict[str, Any]) -> ToolContext:
        return ToolContext(org_id="o", agent_id="a", agent_settings={}, chat_id="c", message=message)

    assert context({"user_id": "u1", "platform_user_id": "42"}).memory_user == "u1"
    assert context({"platform_user_id": "42", "channel": "telegram"}).memory_user == "telegram:42"
    assert context({"user_data": {"user_id": "u2"}}).memory_user is None
@pytest.mark.parametrize("name", BuiltinTool.__args__)  # type: ignore[attr-defined]
def test_every_builtin_tool_has_its_module(name: str) -> None:
    module = builtin_module(name)
    assert callable(module.build)
