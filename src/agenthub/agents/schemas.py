"""Agent configuration as clients send and read it."""

from __future__ import annotations

import re
from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    AnyHttpUrl,
    BaseModel,
    ConfigDict,
    Field,
    GetJsonSchemaHandler,
    field_validator,
    model_validator,
)
from pydantic.json_schema import JsonDict
from typing_extensions import TypeAliasType

AGENT_ID_PATTERN = r"^[a-z0-9][a-z0-9_-]{1,63}$"
SECRET_HINTS = (
    "token", "secret", "password", "passwd", "pwd", "api_key", "apikey", "key", "auth", "bearer", "credential",
    "cookie", "session", "signature",
)
MASK = "***"
_URL_PASSWORD = re.compile(r"(\b[a-z][a-z0-9+.-]*://[^\s:/?#@]*:)([^\s/?#]+)(?=@)", re.IGNORECASE)

Isolation = Literal["process", "shared"]
Provider = Literal["openai", "openrouter", "ollama", "openai_compatible", "fake"]


def _no_nul(value: str) -> str:
    if "\x00" in value:
        raise ValueError("must not contain NUL characters")
    return value


class _NulFree:
    """Says in the JSON schema what :func:`_no_nul` and the JSON reader check: no NUL in a
    string (``pattern``), or in an object's keys (``propertyNames``)."""

    def __get_pydantic_json_schema__(self, core_schema: Any, handler: GetJsonSchemaHandler) -> dict[str, Any]:
        schema = handler(core_schema)
        if schema.get("type") == "object":
            schema["propertyNames"] = {"pattern": NUL_FREE}
        else:
            schema["pattern"] = NUL_FREE
        return schema


NUL_FREE = r"^[^\x00]*$"
Text = Annotated[str, AfterValidator(_no_nul), _NulFree()]
"""A string the database can store on every backend (PostgreSQL rejects NUL)."""
JsonValue = TypeAliasType(
    "JsonValue",
    "Annotated[str, _NulFree()] | int | float | bool | None | list[JsonValue] | JsonObject",
)
JsonObject = TypeAliasType("JsonObject", Annotated[dict[str, JsonValue], _NulFree()])
"""Free-form JSON (integration settings, a message's ``user_data``) as the JSON reader takes
it (see :mod:`agenthub.json_input`): no NUL character in any text or key."""


class Integration(BaseModel):
    model_config = ConfigDict(extra="forbid")

    type: str = Field(min_length=1, max_length=32, pattern=r"^[a-z][a-z0-9_]*$")
    settings: JsonObject = Field(default_factory=dict)


_BASE_URL_WHERE_NEEDED: JsonDict = {
    "if": {"properties": {"provider": {"const": "openai_compatible"}}, "required": ["provider"]},
    "then": {"required": ["base_url"], "properties": {"base_url": {"type": "string"}}},
}
"""What ``_base_url_where_needed`` checks, as the OpenAPI document says it."""


class AgentSettings(BaseModel):
    model_config = ConfigDict(extra="forbid", json_schema_extra=_BASE_URL_WHERE_NEEDED)

    system_prompt: Text = Field(default="", max_length=100_000)
    provider: Provider
    model_id: Text = Field(min_length=1, max_length=128)
    temperature: float = Field(default=0.7, ge=0.0, le=2.0, strict=True)  # strict: not `false`, not "0.5"
    base_url: AnyHttpUrl | None = None
    isolation: Isolation = "shared"
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

    @model_validator(mode="after")
    def _base_url_where_needed(self) -> AgentSettings:
        if self.provider == "openai_compatible" and self.base_url is None:
            raise ValueError("provider 'openai_compatible' needs base_url")
        return self

    def stored(self) -> dict[str, Any]:
        data = self.model_dump(mode="json")
        if data["base_url"] is not None:
            data["base_url"] = data["base_url"].rstrip("/")
        return data


class AgentCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    id: str | None = Field(default=None, pattern=AGENT_ID_PATTERN)
    name: Text = Field(min_length=1, max_length=200)
    kind: Literal["llm"] = "llm"
    settings: AgentSettings


class AgentSettingsPatch(BaseModel):
    """Settings fields to change; the others keep their stored values. Integrations, when
    given, replace the list. ``null`` leaves a field as it is (as leaving it out does), but
    for ``base_url``, which it clears."""

    model_config = ConfigDict(extra="forbid")

    system_prompt: Text | None = Field(default=None, max_length=100_000)
    provider: Provider | None = None
    model_id: Text | None = Field(default=None, min_length=1, max_length=128)
    temperature: float | None = Field(default=None, ge=0.0, le=2.0, strict=True)
    base_url: AnyHttpUrl | None = None
    isolation: Isolation | None = None
    integrations: list[Integration] | None = Field(
        default=None, max_length=20, description="At most one of each `type`; replaces the list"
    )

    @model_validator(mode="after")
    def _null_keeps(self) -> AgentSettingsPatch:
        # Not set, for ``model_dump(exclude_unset=True)``: a client generated from the
        # OpenAPI document may send null for what it does not change.
        self.__pydantic_fields_set__ -= {
            name for name in self.model_fields_set if name != "base_url" and getattr(self, name) is None
        }
        return self


class AgentUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: Text | None = Field(default=None, min_length=1, max_length=200)
    settings: AgentSettingsPatch | None = None


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
    return masked


MaskedSettings = Annotated[dict[str, Any], AfterValidator(mask_settings)]
"""Settings as they leave the server: secrets shown as ``***`` (see :func:`mask_settings`)."""


class AgentConfig(BaseModel):
    """What a runner needs to host the agent."""

    model_config = ConfigDict(from_attributes=True)

    id: str
    kind: str
    settings: MaskedSettings
    config_version: int


class AgentRead(AgentConfig):
    name: str
    created_at: datetime
    updated_at: datetime


class AgentUpdated(AgentRead):
    restart_required: bool = Field(
        description="True when the agent is running: it takes the new config on its next restart"
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
    restart_count: int = 0
    last_heartbeat: float | None = None
    last_activity: float | None = None
    config_version: int | None = None
    error: str | None = None


class AgentList(BaseModel):
    items: list[AgentRead]
    total: int
