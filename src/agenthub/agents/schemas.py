"""Agent configuration as clients send and read it."""

from __future__ import annotations

import re
from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    AliasChoices,
    AnyHttpUrl,
    BaseModel,
    ConfigDict,
    Field,
    RootModel,
    ValidationError,
    ValidatorFunctionWrapHandler,
    field_validator,
    model_validator,
)
from pydantic.json_schema import JsonDict
from pydantic_core import ErrorDetails, InitErrorDetails, PydanticCustomError

from agenthub.agents.intelligence import (
    AGENT_TYPE_DESCRIPTION,
    AgentType,
    BuiltinTool,
    ChainStep,
    HttpTool,
    IntelligenceSettings,
    KnowledgeBaseId,
    McpServer,
    MemoryBlock,
    SubAgent,
    check_intelligence,
    header_values,
    mask_headers,
)
from agenthub.errors import InvalidInput, field_path
from agenthub.fields import JsonObject, ModelId, Name, Prompt

AGENT_ID_PATTERN = r"^[a-z0-9][a-z0-9_-]{1,63}$"
CREDENTIAL_ID_PATTERN = r"^[A-Za-z0-9_-]{1,64}$"
SECRET_HINTS = (
    "token", "secret", "password", "passwd", "pwd", "api_key", "apikey", "key", "auth", "bearer", "credential",
    "cookie", "session", "signature",
)
MASK = "***"
_URL_PASSWORD = re.compile(r"(\b[a-z][a-z0-9+.-]*://[^\s:/?#@]*:)([^\s/?#]+)(?=@)", re.IGNORECASE)

Isolation = Literal["process", "shared"]
Provider = Literal["openai", "openrouter", "ollama", "openai_compatible", "fake"]
Access = Literal["organization", "public", "authorized"]
"""Who may chat with an agent: any member of its organisation (``organization``), anyone,
logged in or not, from any organisation (``public``), or only the users and API keys on its
list of authorisations (``authorized``)."""
DEFAULT_ACCESS: Access = "organization"
ACCESS_DESCRIPTION = (
    "Who may chat with the agent: `organization` (any member of its organisation; the default), "
    "`public` (anyone, without logging in too) or `authorized` (only the users and API keys "
    "granted with `POST /api/v1/agents/{id}/authorizations`)"
)


class TelegramIntegrationSettings(BaseModel):
    """``settings`` of a ``telegram`` integration: the bot's token is the organisation's
    credential ``credential_id``; ``polling`` (AgentHub asks Telegram for updates) or
    ``webhook`` (Telegram posts them to ``PUBLIC_URL``, with ``webhook_secret`` as its
    ``X-Telegram-Bot-Api-Secret-Token``; one is derived from the token when left out)."""

    model_config = ConfigDict(extra="forbid")

    # Both are shown as *** (secret-looking names): *** sent back means "unchanged" (service.update).
    credential_id: str = Field(
        pattern=r"^(\*\*\*|[A-Za-z0-9_-]{1,64})$", description="The credential whose value is the bot token"
    )
    mode: Literal["polling", "webhook"] = "polling"
    webhook_secret: str | None = Field(
        default=None, pattern=r"^(\*\*\*|[A-Za-z0-9_-]{16,256})$",
        description="Telegram's secret_token (16 to 256 of A-Z a-z 0-9 _ -); unset: derived from the bot token",
    )


INTEGRATION_SETTINGS: dict[str, type[BaseModel]] = {"telegram": TelegramIntegrationSettings}
"""The settings schema of each integration type AgentHub runs; other types are kept as sent."""


class Integration(BaseModel):
    model_config = ConfigDict(extra="forbid")

    type: str = Field(min_length=1, max_length=32, pattern=r"^[a-z][a-z0-9_]*$")
    settings: JsonObject = Field(default_factory=dict)

    @model_validator(mode="after")
    def _settings_of_type(self) -> Integration:
        schema = INTEGRATION_SETTINGS.get(self.type)
        if schema is not None:
            try:
                checked = schema.model_validate(self.settings)
            except ValidationError as error:
                problem = error.errors()[0]
                where = field_path(problem["loc"])
                raise ValueError(f"{self.type} integration: settings.{where}: {problem['msg']}") from None
            self.settings = checked.model_dump(mode="json", exclude_none=True)
        return self


class KindSettings(BaseModel):
    """The settings every kind of agent has: where it runs and how people reach it."""

    model_config = ConfigDict(extra="forbid")

    isolation: Isolation = "shared"
    access: Access = Field(default=DEFAULT_ACCESS, description=ACCESS_DESCRIPTION)
    integrations: list[Integration] = Field(
        default_factory=list, max_length=20, description="At most one of each `type`"
    )

    @field_validator("integrations")
    @classmethod
    def _one_per_type(cls, value: list[Integration]) -> list[Integration]:
        types = [integration.type for integration in value]
        if len(types) != len(set(types)):
            raise ValueError("each integration type may appear once")
        return value

    def stored(self) -> dict[str, Any]:
        return self.model_dump(mode="json")


API_KEY_CREDENTIAL = (
    "The id of a credential of the agent's organisation (`POST /api/v1/credentials`) whose value is the key its "
    "model calls carry, wherever they go. Without one, only calls to the provider's own service carry the "
    "platform's key (OPENAI_API_KEY to OpenAI's API or OPENAI_BASE_URL, OPENROUTER_API_KEY to OpenRouter); "
    "calls to any other base_url carry no key"
)
_BASE_URL_WHERE_NEEDED: JsonDict = {
    "if": {"properties": {"provider": {"const": "openai_compatible"}}, "required": ["provider"]},
    "then": {"required": ["base_url"], "properties": {"base_url": {"type": "string"}}},
}
"""What ``_base_url_where_needed`` checks, as the OpenAPI document says it."""


class LlmSettings(IntelligenceSettings, KindSettings):
    """An ``llm`` agent: a model behind a LangGraph graph chosen by ``agent_type``."""

    model_config = ConfigDict(extra="forbid", json_schema_extra=_BASE_URL_WHERE_NEEDED)
    system_prompt: Prompt = ""
    provider: Provider
    model_id: ModelId
    temperature: float = Field(default=0.7, ge=0.0, le=2.0, strict=True)  # strict: not `false`, not "0.5"
    base_url: AnyHttpUrl | None = None
    api_key_credential_id: str | None = Field(
        default=None, pattern=CREDENTIAL_ID_PATTERN, description=API_KEY_CREDENTIAL,
    )

    @model_validator(mode="after")
    def _base_url_where_needed(self) -> LlmSettings:
        if self.provider == "openai_compatible" and self.base_url is None:
            raise ValueError("provider 'openai_compatible' needs base_url")
        check_intelligence(self)
        return self

    def stored(self) -> dict[str, Any]:
        data = super().stored()
        if data["base_url"] is not None:
            data["base_url"] = data["base_url"].rstrip("/")
        return data


class ScenarioSettings(KindSettings):
    """A ``scenario`` agent: a bot of steps and connections (``/api/v1/bots``), whose graph is
    its bot's rows, not settings; only where it runs and who reaches it are set here."""


SETTINGS_BY_KIND: dict[str, type[KindSettings]] = {"llm": LlmSettings, "scenario": ScenarioSettings}
"""The settings schema of each kind an agent can be created with."""
DEFAULT_KIND = "llm"
CREATED_HERE = ("llm",)
"""The kinds ``POST /api/v1/agents`` creates (a ``scenario`` agent comes with its bot: ``POST /api/v1/bots``)."""


def settings_schema(kind: str) -> type[KindSettings]:
    """The settings schema of agents of ``kind``; InvalidInput for a kind the API does not
    configure (an agent put in the database by other means)."""
    schema = SETTINGS_BY_KIND.get(kind)
    if schema is None:
        raise InvalidInput(f"settings of {kind!r} agents can't be changed through the API", field="settings")
    return schema


class _NewAgent(BaseModel):
    model_config = ConfigDict(extra="forbid")

    id: str | None = Field(default=None, pattern=AGENT_ID_PATTERN)
    name: Name


class LlmAgentCreate(_NewAgent):
    kind: Literal["llm"] = "llm"
    settings: LlmSettings


AnyAgentCreate = Annotated[LlmAgentCreate, Field(discriminator="kind")]
"""One create body per kind, told apart by ``kind`` (a new kind adds its own here:
``LlmAgentCreate | ScenarioAgentCreate``)."""


class AgentCreate(RootModel[AnyAgentCreate]):
    """A new agent: ``{"name", "kind", "settings"}``, its settings those of its kind;
    ``kind`` may be left out for ``llm``."""

    @model_validator(mode="wrap")
    @classmethod
    def _kind_first(cls, value: Any, handler: ValidatorFunctionWrapHandler) -> AgentCreate:
        """``kind`` defaults to ``llm``; errors name fields as the body does (without the
        kind in front), and an unknown kind as ``kind``."""
        if isinstance(value, dict) and "kind" not in value:
            value = {**value, "kind": DEFAULT_KIND}
        try:
            return handler(value)
        except ValidationError as error:
            raise ValidationError.from_exception_data(
                error.title, [_as_in_body(problem, value) for problem in error.errors()]
            ) from None

    @property
    def id(self) -> str | None:
        return self.root.id

    @property
    def name(self) -> str:
        return self.root.name

    @property
    def kind(self) -> str:
        return self.root.kind

    @property
    def settings(self) -> KindSettings:
        return self.root.settings


def _as_in_body(problem: ErrorDetails, value: Any) -> InitErrorDetails:
    if problem["type"] == "union_tag_invalid":
        kinds = ", ".join(repr(kind) for kind in CREATED_HERE)
        return {
            "type": PydanticCustomError("invalid_kind", "unknown kind {kind} (known: {kinds}; scenario bots are "
                                        "created with POST /api/v1/bots)",
                                        {"kind": repr(value.get("kind")), "kinds": kinds}),
            "loc": ("kind",),
            "input": value.get("kind"),
        }
    loc = problem["loc"]
    if loc and loc[0] in SETTINGS_BY_KIND:
        loc = loc[1:]
    details: InitErrorDetails = {"type": problem["type"], "loc": loc, "input": problem["input"]}
    if "ctx" in problem:
        details["ctx"] = problem["ctx"]
    return details


CLEARED_BY_NULL = frozenset({"base_url", "api_key_credential_id"})


class AgentSettingsPatch(BaseModel):
    """Settings of an ``llm`` agent to change, each optional (the only kind whose settings
    the API configures today; a new kind makes this a union). ``null`` leaves a field as
    it is, as leaving it out does, but for ``base_url`` and ``api_key_credential_id``, which
    it clears."""

    model_config = ConfigDict(extra="forbid")

    system_prompt: Prompt | None = None
    provider: Provider | None = None
    model_id: ModelId | None = None
    temperature: float | None = Field(default=None, ge=0.0, le=2.0, strict=True)
    base_url: AnyHttpUrl | None = None
    api_key_credential_id: str | None = Field(
        default=None, pattern=CREDENTIAL_ID_PATTERN, description=API_KEY_CREDENTIAL + "; `null` clears it",
    )
    agent_type: AgentType | None = Field(default=None, description=AGENT_TYPE_DESCRIPTION)
    tools: list[BuiltinTool] | None = Field(default=None, max_length=20, json_schema_extra={"uniqueItems": True})
    http_tools: list[HttpTool] | None = Field(default=None, max_length=50)
    mcp_servers: list[McpServer] | None = Field(default=None, max_length=20)
    steps: list[ChainStep] | None = Field(default=None, max_length=20)
    sub_agents: list[SubAgent] | None = Field(default=None, max_length=20)
    knowledge_base_ids: list[KnowledgeBaseId] | None = Field(default=None, max_length=20)
    max_tool_steps: int | None = Field(default=None, ge=1, le=100)
    memory_blocks: list[MemoryBlock] | None = Field(default=None, max_length=20)
    max_query_rewrites: int | None = Field(default=None, ge=0, le=5)
    context_budget_tokens: int | None = Field(default=None, ge=500, le=2_000_000)
    isolation: Isolation | None = None
    access: Access | None = Field(default=None, description=ACCESS_DESCRIPTION)
    integrations: list[Integration] | None = Field(
        default=None, max_length=20, description="At most one of each `type`; replaces the list"
    )

    def changes(self) -> dict[str, Any]:
        """What was sent, as stored settings spell it; a ``null`` only where it clears."""
        sent = self.model_dump(mode="json", exclude_unset=True)
        return {key: value for key, value in sent.items() if value is not None or key in CLEARED_BY_NULL}


class AgentUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: Name | None = None
    settings: AgentSettingsPatch | None = Field(
        default=None,
        description="Settings of the agent's kind to change (the `settings` of its kind in the create body); "
        "the others keep their stored values (so does `null`, but for `base_url` and `api_key_credential_id`, "
        "which it clears), "
        "integrations when given replace the list. "
        "The result is validated as a whole.",
    )


def is_secret_key(key: str) -> bool:
    """An integration setting whose name says it holds a secret (``bot_token``, ``api_key``...)."""
    return any(hint in key.lower() for hint in SECRET_HINTS)


def mask_url_passwords(text: str) -> str:
    """``text`` with the password of every URL in it shown as ``***``
    (``https://user:***@example.com/x``); the rest stays readable."""
    return _URL_PASSWORD.sub(lambda match: match.group(1) + MASK, text)


def mask_secrets(value: Any, *, key: str = "") -> Any:
    """``value`` as it may leave the server, at any depth of dicts and lists: a non-empty value
    under a secret's name becomes ``***`` (whatever its type), URL passwords become ``***``."""
    if key and is_secret_key(key) and value:
        return MASK
    if isinstance(value, dict):
        return {name: mask_secrets(item, key=str(name)) for name, item in value.items()}
    if isinstance(value, list):
        return [mask_secrets(item) for item in value]
    if isinstance(value, str):
        return mask_url_passwords(value)
    return value


def secret_values(settings: dict[str, Any]) -> tuple[list[str], list[str]]:
    """What :func:`mask_settings` hides, to keep it out of logs as well: the values under
    secrets' names in the integrations, at any depth; and the URLs with credentials."""
    values: list[str] = []

    def collect(value: Any, key: str = "") -> None:
        if isinstance(value, dict):
            for name, item in value.items():
                collect(item, str(name))
        elif isinstance(value, list):
            for item in value:
                collect(item, key)
        elif key and is_secret_key(key) and value and isinstance(value, str | int):
            values.append(str(value))

    for integration in settings.get("integrations", []):
        collect(integration.get("settings", {}))
    values += header_values(settings)
    urls = [v for v in settings.values() if isinstance(v, str) and _URL_PASSWORD.search(v)]
    return values, urls


def mask_settings(settings: dict[str, Any]) -> dict[str, Any]:
    """Stored agent settings as responses show them. Integration settings are masked by name
    and in depth; the fixed fields (``base_url``, the prompt) only lose URL passwords, so a
    future field such as ``max_tokens`` is not taken for a secret."""
    masked = {key: mask_url_passwords(value) if isinstance(value, str) else value
              for key, value in settings.items()}
    masked["integrations"] = [
        {**integration, "settings": mask_secrets(integration.get("settings", {}))}
        for integration in settings.get("integrations", [])
    ]
    return mask_headers(masked)


MaskedSettings = Annotated[dict[str, Any], AfterValidator(mask_settings)]
"""Settings as they leave the server: secrets shown as ``***`` (see :func:`mask_settings`)."""


class AgentConfig(BaseModel):
    """What a runner needs to host the agent."""

    model_config = ConfigDict(from_attributes=True)

    id: str = Field(
        validation_alias=AliasChoices("handle", "id"),
        description="The id the agent's organisation names it by (unique within the organisation)",
    )
    kind: str
    settings: MaskedSettings
    config_version: int


class AgentRead(AgentConfig):
    address: str = Field(
        description="What callers from outside the organisation reach the agent by when it is `public` "
        "(`/ws/agents/{address}`, `/api/v1/agents/{address}/chat`): its `id`, unless another organisation "
        "had that id first",
    )
    name: str
    owner_user_id: str | None = Field(
        default=None, exclude_if=lambda value: value is None,
        description="On a member's personal agent only: that member (only they may chat with it)",
    )
    created_at: datetime
    updated_at: datetime


class AgentCreated(AgentRead):
    warning: str | None = Field(
        default=None, description="Why the agent will not work as configured yet (a provider key that is not set)"
    )


class AgentUpdated(AgentCreated):
    restart_required: bool = Field(
        description="True when the agent is running an older config: it takes the new one on its next restart "
        "(a new name alone needs none)"
    )
    message: str


class AgentStatusRead(BaseModel):
    agent_id: str
    status: Literal["starting", "running", "stopped", "error"]
    pid: int | None = None
    host: str | None = None
    host_id: str | None = None
    isolation: str | None = None
    placement: Literal["process", "worker", "local"] | None = Field(
        default=None,
        description="Where it runs: `process` (a runner process of its own), `worker` (an `agenthub worker`), "
        "`local` (inside `agenthub serve`: always so in the embedded mode, whatever `isolation` says)",
    )
    restart_count: int = Field(
        default=0,
        description="Restarts in a row (crashes, stale heartbeats, failed starts); one more than "
        "MAX_RESTART_ATTEMPTS puts the agent in `error`. Back to 0 after `restarts_reset_after` seconds of "
        "running without one, and when the agent is started",
    )
    restarts_reset_after: float | None = Field(
        default=None, description="Seconds of running without a failure after which `restart_count` is 0 again"
    )
    last_heartbeat: datetime | None = None
    last_activity: datetime | None = None
    config_version: int | None = None
    error: str | None = None


class AgentList(BaseModel):
    items: list[AgentRead]
    total: int
