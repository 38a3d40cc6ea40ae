"""Agent configuration as clients send and read it."""

from __future__ import annotations

import re
import unicodedata
from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    AnyHttpUrl,
    BaseModel,
    ConfigDict,
    Field,
    field_validator,
    model_validator,
)

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


Text = Annotated[str, AfterValidator(_no_nul)]
"""A string the database can store on every backend (PostgreSQL rejects NUL)."""


def _visible(value: str) -> str:
    """Refuse a value of spaces and invisible characters only (zero-width spaces, joiners,
    direction marks: Unicode's format characters), as blank message content is refused."""
    if all(character.isspace() or unicodedata.category(character) == "Cf" for character in value):
        raise ValueError("must not be blank")
    return value


# Constraints inside the type, so that a field that may be left out (PATCH) is refused in
# the same words as a required one (POST).
Name = Annotated[Text, Field(min_length=1, max_length=200), AfterValidator(_visible)]
ModelId = Annotated[Text, Field(min_length=1, max_length=128)]


class Integration(BaseModel):
    model_config = ConfigDict(extra="forbid")

    type: str = Field(min_length=1, max_length=32, pattern=r"^[a-z][a-z0-9_]*$")
    settings: dict[str, Any] = Field(default_factory=dict)


class AgentSettings(BaseModel):
    model_config = ConfigDict(extra="forbid")

    system_prompt: Text = Field(default="", max_length=100_000)
    provider: Provider
    model_id: ModelId
    temperature: float = Field(default=0.7, ge=0.0, le=2.0)
    base_url: AnyHttpUrl | None = None
    isolation: Isolation = "shared"
    integrations: list[Integration] = Field(default_factory=list, max_length=20)

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
    name: Name
    kind: Literal["llm"] = "llm"
    settings: AgentSettings


class AgentSettingsPatch(BaseModel):
    """Settings fields to change; the others keep their stored values. Integrations, when
    given, replace the list."""

    model_config = ConfigDict(extra="forbid")

    system_prompt: Text | None = Field(default=None, max_length=100_000)
    provider: Provider | None = None
    model_id: ModelId | None = None
    temperature: float | None = Field(default=None, ge=0.0, le=2.0)
    base_url: AnyHttpUrl | None = None
    isolation: Isolation | None = None
    integrations: list[Integration] | None = Field(default=None, max_length=20)


class AgentUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: Name | None = None
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
