"""``role_call``: ask one of the platform's roles (``agenthub/roles/<name>.md`` and
``ROLES_DIR``) a question. The role runs on the calling agent's model (its provider, model
and ``base_url``) with the role's prompt as its system prompt, and with the role's tools, if
it lists any (``role_call`` itself excepted: roles do not call roles); its answer is the
tool's result.

The roles are read through a :class:`~agenthub.roles.library.RoleLibrary` made once per
process (the tool is built once per process): it keeps the files' contents and re-reads them
when their modification times change, so an edited role is used from the next call on, in
every runner, without a restart.
"""

from __future__ import annotations

from typing import Any

from langchain_core.messages import AIMessage, HumanMessage
from langchain_core.runnables import RunnableConfig
from langgraph.graph.state import CompiledStateGraph

from agenthub.graphs.simple import build_simple_graph
from agenthub.roles.library import RoleLibrary
from agenthub.tools.base import Tool, ToolContext, ToolDeps, ToolError
from agenthub.tools.registry import ToolRegistry

MAX_QUESTION_CHARS = 20_000
ROLE_TOOL_STEPS = 5
"""Model calls with tool calls a role may make for one question."""


class RoleCall(Tool):
    name = "role_call"
    description = "Ask a specialist role a question and get its answer."
    parameters = {
        "type": "object",
        "properties": {
            "role": {"type": "string", "description": "The role's name"},
            "question": {
                "type": "string",
                "description": "The question, with everything the role needs to know to answer it",
            },
        },
        "required": ["role", "question"],
    }

    def __init__(self, library: RoleLibrary, tools: ToolRegistry) -> None:
        self._library = library
        self._tools = tools
        self._graph: CompiledStateGraph = build_simple_graph()

    def spec(self) -> dict[str, Any]:
        """The roles as they are now, with what each does, in the description."""
        roles = "; ".join(f"{role.name}: {role.description}" for role in self._library.roles())
        spec = super().spec()
        spec["function"]["description"] = f"{self.description} Roles: {roles or 'none'}."
        return spec

    async def run(self, arguments: dict[str, Any], context: ToolContext) -> str:
        name, question = arguments.get("role"), arguments.get("question")
        if not isinstance(name, str) or not name.strip():
            raise ToolError("give the role's name in 'role'")
        if not isinstance(question, str) or not question.strip():
            raise ToolError("give the question in 'question'")
        if len(question) > MAX_QUESTION_CHARS:
            raise ToolError(f"the question is longer than {MAX_QUESTION_CHARS} characters")
        role = self._library.get(name.strip())
        if role is None:
            raise ToolError(f"there is no role {name!r} (roles: {', '.join(self._library.names()) or 'none'})")
        if context.model is None:
            raise ToolError("this agent has no model to run a role on")
        tool_names = [tool for tool in role.tools if tool != self.name]
        try:
            toolset = await self._tools.open({"tools": tool_names}, context)
        except ImportError:
            raise ToolError(f"the role {role.name!r} lists a tool this server does not have") from None

        async def call_tool(tool: str, tool_arguments: Any, call_id: str) -> str:
            result, _ = await toolset.call(tool, tool_arguments, context)
            return result

        config: RunnableConfig = {"configurable": {
            "model": context.model,
            "system_prompt": role.prompt,
            "tools": toolset.specs(),
            "call_tool": call_tool,
            "max_tool_steps": ROLE_TOOL_STEPS,
            "on_usage": context.on_usage,
        }}
        try:
            state = await self._graph.ainvoke({"messages": [HumanMessage(content=question)]}, config)
        finally:
            await toolset.aclose()
        answer = state["messages"][-1]
        text = answer.content if isinstance(answer, AIMessage) and isinstance(answer.content, str) else ""
        return text or f"(the role {role.name!r} gave no answer)"


def build(deps: ToolDeps) -> Tool:
    return RoleCall(RoleLibrary.from_settings(deps.settings), ToolRegistry(deps))
