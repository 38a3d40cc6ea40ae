"""What an ``llm`` agent's ``settings`` say about its intelligence: its agent type, its
tools (built-in by name, HTTP API tools, MCP servers), its chain steps and sub-agents, its
knowledge bases and its long-term memory.

The create schema (:class:`~agenthub.agents.schemas.LlmSettings`) and the patch schema
both take these fields from :class:`IntelligenceSettings`.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Discriminator, Field, Tag

from agenthub.fields import JsonObject, ModelId, Name, NoNul, Prompt

AgentType = Literal["simple", "chain", "multi_agent", "rag"]
AGENT_TYPE_DESCRIPTION = (
    "The graph the agent runs: `simple` (one model call; a ReAct loop when it has tools), `chain` (`steps` in "
    "order, each step's output the next one's input), `multi_agent` (a supervisor routing to `sub_agents`), "
    "`rag` (adaptive retrieval from `knowledge_base_ids`: grade, rewrite the query and retry, answer citing "
    "the documents)"
)
BuiltinTool = Literal[
    "search_knowledge",
    "role_call",
    "calendar",
    "core_memory_append",
    "core_memory_replace",
    "archival_memory_insert",
    "archival_memory_search",
    "conversation_search",
    "web_search",
]
"""The names of the built-in tools (``agenthub/tools/builtin/<name>.py``)."""
MEMORY_TOOLS = frozenset({
    "core_memory_append", "core_memory_replace", "archival_memory_insert", "archival_memory_search",
    "conversation_search",
})
"""Listing any of these turns the agent's long-term memory on."""
DEFAULT_MAX_TOOL_STEPS = 10
TOOL_NAME_PATTERN = r"^[A-Za-z][A-Za-z0-9_-]{0,63}$"
"""What model APIs accept as a function's name (OpenAI: ``^[a-zA-Z0-9_-]{1,64}$``)."""
MASK = "***"
CREDENTIAL_ID_PATTERN = r"^[A-Za-z0-9_-]{1,64}$"


PORT = r"(6553[0-5]|655[0-2][0-9]|65[0-4][0-9]{2}|6[0-4][0-9]{3}|[1-5][0-9]{4}|[0-9]{1,4})"
HTTP_URL = r"^https?://[A-Za-z0-9][A-Za-z0-9.-]*(:" + PORT + r")?([/?#][^\x00-\x20\x7f]*)?$"
"""An http(s) URL with a host name or IPv4 address (no user part), as written: ``{param}``
placeholders in its path and query stay as they are."""
HttpUrlText = Annotated[str, Field(max_length=2048, pattern=HTTP_URL)]


class HeaderCredential(BaseModel):
    """A header whose value is an organisation's credential (never stored in the agent)."""

    model_config = ConfigDict(extra="forbid")
    credential_id: str = Field(pattern=CREDENTIAL_ID_PATTERN, description="The credential whose value is sent")


def _shape(value: Any) -> str:
    """Which member of a union a value is meant to be: an object, or anything else (asked of
    input, and of a model when it is serialised)."""
    return "~object" if isinstance(value, dict | HeaderCredential) else "~plain"


HeaderValue = Annotated[
    Annotated[Annotated[str, Field(max_length=8192), NoNul()], Tag("~plain")]
    | Annotated[HeaderCredential, Tag("~object")],
    Discriminator(_shape),
]
"""A header's value: text, or ``{"credential_id"}`` (locations in errors skip the ``~`` tags)."""
HEADER_NAME = r"^[!#$%&'*+.^_`|~0-9A-Za-z-]{1,128}$"
"""A header's name as HTTP allows it (a token)."""
Headers = Annotated[
    dict[Annotated[str, Field(pattern=HEADER_NAME)], HeaderValue],
    Field(max_length=50, json_schema_extra={"propertyNames": {"pattern": HEADER_NAME}}),
]
HEADERS_DESCRIPTION = (
    "Header values are strings (shown as *** once stored; *** sent back keeps the stored value) or "
    '`{"credential_id": "..."}`, an organisation credential whose value is sent'
)


def _object_schema(value: dict[str, Any]) -> dict[str, Any]:
    if value.get("type", "object") != "object":
        raise ValueError('must be a JSON Schema of an object ({"type": "object", "properties": {...}})')
    properties = value.get("properties", {})
    if not isinstance(properties, dict):
        raise ValueError("properties must be an object")
    return {"type": "object", **value}


def _empty_object_schema() -> dict[str, Any]:
    return {"type": "object", "properties": {}}


class HttpTool(BaseModel):
    """A dynamic HTTP API tool: ``url`` takes ``{param}`` placeholders; other arguments go in
    the query string (GET, DELETE) or a JSON body."""

    model_config = ConfigDict(extra="forbid")

    name: str = Field(pattern=TOOL_NAME_PATTERN, description="The function name the model sees")
    description: Annotated[str, Field(max_length=2000), NoNul()] = ""
    method: Literal["GET", "POST", "PUT", "PATCH", "DELETE"] = "GET"
    url: HttpUrlText
    headers: Headers = Field(default_factory=dict, description=HEADERS_DESCRIPTION)
    parameters: Annotated[JsonObject, AfterValidator(_object_schema)] = Field(
        default_factory=_empty_object_schema,
        description="The JSON Schema of the arguments the model sees",
    )
    timeout: float = Field(default=30.0, gt=0, le=300, description="Seconds the call may take")


class McpServer(BaseModel):
    """An MCP server whose tools the agent uses (streamable HTTP)."""

    model_config = ConfigDict(extra="forbid")

    name: str = Field(pattern=TOOL_NAME_PATTERN)
    url: HttpUrlText
    headers: Headers = Field(default_factory=dict, description=HEADERS_DESCRIPTION)


class ChainStep(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: Name
    prompt: Prompt
    model_id: ModelId | None = Field(default=None, description="Another model of the agent's provider")


def _not_finish(name: str) -> str:
    if name == FINISH:
        raise ValueError(f"{FINISH!r} is what the supervisor says when it is done: name the sub-agent otherwise")
    return name


FINISH = "FINISH"
SubAgentName = Annotated[
    str, Field(pattern=TOOL_NAME_PATTERN, json_schema_extra={"not": {"const": FINISH}}), AfterValidator(_not_finish)
]
"""A sub-agent's name: what the supervisor routes to (``FINISH`` ends the routing)."""


class InlineSubAgent(BaseModel):
    """A sub-agent defined here, on the agent's provider."""

    model_config = ConfigDict(extra="forbid")

    name: SubAgentName
    description: Annotated[str, Field(max_length=2000), NoNul()]
    system_prompt: Prompt
    model_id: ModelId | None = None


class AgentSubAgent(BaseModel):
    """A sub-agent that is another agent of the organisation."""

    model_config = ConfigDict(extra="forbid")

    name: SubAgentName
    description: Annotated[str, Field(max_length=2000), NoNul()]
    agent_id: str = Field(pattern=r"^[a-z0-9][a-z0-9_-]{1,63}$")


KnowledgeBaseId = Annotated[str, Field(pattern=r"^[A-Za-z0-9_-]{1,64}$")]


def _sub_agent_kind(value: Any) -> str:
    """Which kind of sub-agent a value is (asked of input, and of a model when it is serialised)."""
    if isinstance(value, AgentSubAgent | InlineSubAgent):
        return "~agent" if isinstance(value, AgentSubAgent) else "~inline"
    return "~agent" if isinstance(value, dict) and "agent_id" in value else "~inline"


SubAgent = Annotated[
    Annotated[InlineSubAgent, Tag("~inline")] | Annotated[AgentSubAgent, Tag("~agent")],
    Discriminator(_sub_agent_kind),
]
"""A sub-agent: defined inline, or another agent of the organisation (``agent_id``)."""


class MemoryBlock(BaseModel):
    """A core memory block: always in the agent's context."""

    model_config = ConfigDict(extra="forbid")

    label: str = Field(pattern=r"^[a-z][a-z0-9_]{0,63}$")
    value: Annotated[str, Field(max_length=20_000), NoNul()] = ""
    limit: int = Field(default=2000, ge=1, le=20_000, description="Characters the block may hold")


class IntelligenceSettings(BaseModel):
    """The intelligence fields of an ``llm`` agent's settings (create: defaults; patch: each optional)."""

    agent_type: AgentType = Field(default="simple", description=AGENT_TYPE_DESCRIPTION)
    tools: list[BuiltinTool] = Field(
        default_factory=list, max_length=20, json_schema_extra={"uniqueItems": True},
        description="Built-in tools by name, each once; a memory tool turns memory on",
    )
    http_tools: list[HttpTool] = Field(default_factory=list, max_length=50)
    mcp_servers: list[McpServer] = Field(default_factory=list, max_length=20)
    steps: list[ChainStep] = Field(default_factory=list, max_length=20, description="The steps of a `chain` agent")
    sub_agents: list[SubAgent] = Field(
        default_factory=list, max_length=20, description="The sub-agents of a `multi_agent` agent"
    )
    knowledge_base_ids: list[KnowledgeBaseId] = Field(
        default_factory=list, max_length=20
    )
    max_tool_steps: int = Field(
        default=DEFAULT_MAX_TOOL_STEPS, ge=1, le=100,
        description="Model calls with tool calls a turn may make before the agent answers",
    )
    memory_blocks: list[MemoryBlock] | None = Field(
        default=None, max_length=20,
        description="The core memory blocks each user starts with (default: `persona` and `human`)",
    )
    max_query_rewrites: int = Field(default=2, ge=0, le=5, description="`rag`: query rewrites before giving up")
    context_budget_tokens: int = Field(
        default=8000, ge=500, le=2_000_000,
        description="Tokens of conversation kept in the context; older turns are summarised (memory on)",
    )


def check_intelligence(settings: Any) -> None:
    """What the fields say together (raises ValueError): unique tool names, and what each
    agent type needs."""
    names = [tool.name for tool in settings.http_tools]
    if len(names) != len(set(names)):
        raise ValueError("http_tools: each name may appear once")
    clash = set(names) & set(BuiltinTool.__args__)  # type: ignore[attr-defined]
    if clash:
        raise ValueError(f"http_tools: {sorted(clash)[0]!r} is the name of a built-in tool")
    servers = [server.name for server in settings.mcp_servers]
    if len(servers) != len(set(servers)):
        raise ValueError("mcp_servers: each name may appear once")
    if len(settings.tools) != len(set(settings.tools)):
        raise ValueError("tools: each name may appear once")
    subs = [sub.name for sub in settings.sub_agents]
    if len(subs) != len(set(subs)):
        raise ValueError("sub_agents: each name may appear once")
    if settings.memory_blocks:
        labels = [block.label for block in settings.memory_blocks]
        if len(labels) != len(set(labels)):
            raise ValueError("memory_blocks: each label may appear once")
        for block in settings.memory_blocks:
            if len(block.value) > block.limit:
                raise ValueError(f"memory_blocks: {block.label!r} holds more than its limit of {block.limit}")
    if settings.agent_type == "chain" and not settings.steps:
        raise ValueError("a `chain` agent needs steps")
    if settings.agent_type == "multi_agent" and not settings.sub_agents:
        raise ValueError("a `multi_agent` agent needs sub_agents")
    if settings.agent_type == "rag" and not settings.knowledge_base_ids:
        raise ValueError("a `rag` agent needs knowledge_base_ids")


def memory_on(settings: dict[str, Any]) -> bool:
    """Whether an agent with these stored settings has long-term memory."""
    return bool(MEMORY_TOOLS & set(settings.get("tools") or ()))


def mask_headers(settings: dict[str, Any]) -> dict[str, Any]:
    """Stored settings with the string header values of HTTP tools and MCP servers as ``***``."""
    masked = dict(settings)
    for field in ("http_tools", "mcp_servers"):
        if settings.get(field):
            masked[field] = [
                {**item, "headers": {name: MASK if isinstance(value, str) and value else value
                                     for name, value in (item.get("headers") or {}).items()}}
                for item in settings[field]
            ]
    return masked


def header_values(settings: dict[str, Any]) -> list[str]:
    """The string header values of an agent's HTTP tools and MCP servers: kept out of logs."""
    return [
        value
        for field in ("http_tools", "mcp_servers")
        for item in settings.get(field) or []
        for value in (item.get("headers") or {}).values()
        if isinstance(value, str) and value
    ]
