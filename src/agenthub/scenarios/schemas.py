"""Scenario bots' rows as clients send and read them (``/api/v1/bots``, ``/steps``,
``/connection_groups``, ``/connections``, ``/requests``, ``/templates``).

The field types are the document's (:mod:`agenthub.scenarios.document`): a step's
``message`` is a :class:`~agenthub.scenarios.document.Message`, a group's ``llm`` an
:class:`~agenthub.scenarios.document.LlmAction`... Rows name each other by id (the document
by key). What needs the database (a reference inside the bot, a key taken) is checked by
:mod:`agenthub.scenarios.service`.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from agenthub.agents.schemas import AGENT_ID_PATTERN
from agenthub.fields import JsonObject, JsonValue, NoNul, OptionalName, Visible
from agenthub.scenarios.document import (
    NUL_FREE_KEYS,
    Filter,
    IntegrationAction,
    Key,
    LlmAction,
    Message,
    RequestDoc,
    Rules,
    SearchType,
    StepDoc,
    Text,
)

RowId = Annotated[str, Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_.:-]+$")]
BotName = Annotated[str, Field(max_length=200), Visible()]
VariableName = Annotated[str, Field(max_length=200)]
NULLABLE = "`null` clears it"


class _Body(BaseModel):
    model_config = ConfigDict(extra="forbid")


# Bots -------------------------------------------------------------------------------------


class BotCreate(_Body):
    id: str | None = Field(
        default=None, pattern=AGENT_ID_PATTERN,
        description="The bot's id (also its agent's id); unset: `bot-` and 12 hex digits. 409 if taken",
    )
    name: BotName
    description: Text = ""
    variables: JsonObject = Field(default_factory=dict, description="The bot's variables (`bot.*`) and their values")


class BotUpdate(_Body):
    """Only the fields sent change; `null` keeps a field, but for `first_step_id` (clears it)."""

    name: BotName | None = None
    description: Text | None = None
    variables: JsonObject | None = Field(default=None, description="Replaces the bot's variables")
    first_step_id: RowId | None = Field(default=None, description="A step of this bot; " + NULLABLE)


class BotRead(BaseModel):
    id: str = Field(description="The bot's id: also its agent's (`/api/v1/agents/{id}`, `/ws/agents/{id}`)")
    name: str
    description: str
    first_step_id: str | None
    variables: dict[str, Any]
    published_version: int | None = Field(description="The version sessions run; null before the first publish")
    draft_revision: int = Field(description="Counts the edits of the draft")
    draft_changed: bool = Field(description="Whether the draft was edited since it was last published")
    created_at: datetime
    updated_at: datetime


class BotList(BaseModel):
    items: list[BotRead]
    total: int


class VersionRead(BaseModel):
    version: int
    published_at: datetime
    published_by: str | None = Field(description="The user (or `key:<id>`, an API key) who published it")


class VersionList(BaseModel):
    items: list[VersionRead]
    total: int


class VersionDocument(VersionRead):
    document: dict[str, Any] = Field(description="The bot as sessions of this version run it (`agenthub.bot/v1`)")


# Steps ------------------------------------------------------------------------------------


class EmitterFields(_Body):
    delay_seconds: float = Field(gt=0, le=366 * 86400, description="Seconds after entering the step")
    next_step_id: RowId = Field(description="The step of the same bot the session moves to then")


class TemplateInstance(_Body):
    template_id: RowId = Field(description="A template of the organisation (`/api/v1/templates`)")
    inputs: Annotated[dict[str, JsonValue], NUL_FREE_KEYS] = Field(
        default_factory=dict, description="Template input -> value (substituted)"
    )
    outputs: Annotated[dict[str, Annotated[str, Field(max_length=200), NoNul()]], NUL_FREE_KEYS] = Field(
        default_factory=dict, description="Template output -> variable it is saved to"
    )


StepName = OptionalName


class TemplateInstanceCreate(_Body):
    """A new instance of the template: a proxy step of the bot that runs it."""

    bot_id: RowId
    key: Key | None = Field(default=None, description="The step's name in the bot's document, unique in the bot")
    name: StepName = Field(default="", description="The step's name (default: the template's)")
    inputs: Annotated[dict[str, JsonValue], NUL_FREE_KEYS] = Field(
        default_factory=dict, description="Template input -> value (substituted: `{$session.name$}`)"
    )
    outputs: Annotated[dict[str, Annotated[str, Field(max_length=200), NoNul()]], NUL_FREE_KEYS] = Field(
        default_factory=dict, description="Template output -> variable it is saved to (`session.greeting`)"
    )
    position: JsonObject | None = Field(default=None, description="Where the visual constructor draws it: {x, y}")
PresetId = Annotated[str, Field(max_length=64)]


class StepCreate(_Body):
    bot_id: RowId
    key: Key | None = Field(default=None, description="Its name in the bot's document, unique in the bot")
    name: StepName = ""
    message: Message = Field(default_factory=Message)
    is_proxy: bool = Field(default=False, description="Evaluated at once with the message that entered it")
    preset_id: PresetId | None = None
    emitter: EmitterFields | None = Field(default=None, description="A delayed move to another step")
    template_instance: TemplateInstance | None = Field(
        default=None, description="Makes the step an instance of a template (it is then a proxy step)"
    )
    position: JsonObject | None = Field(default=None, description="Where the visual constructor draws it: {x, y}")


class StepUpdate(_Body):
    """Only the fields sent change; `null` keeps a field, but for `key`, `preset_id`,
    `emitter`, `template_instance` and `position` (clears it)."""

    key: Key | None = None
    name: StepName | None = None
    message: Message | None = None
    is_proxy: bool | None = None
    preset_id: PresetId | None = None
    emitter: EmitterFields | None = None
    template_instance: TemplateInstance | None = None
    position: JsonObject | None = None


STEP_NULLABLE = frozenset({"key", "preset_id", "emitter", "template_instance", "position"})


class StepRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: str
    bot_id: str
    key: str | None
    name: str
    message: dict[str, Any]
    is_proxy: bool
    preset_id: str | None
    emitter: dict[str, Any] | None
    template_instance: dict[str, Any] | None
    position: dict[str, Any] | None
    created_at: datetime
    updated_at: datetime


class StepList(BaseModel):
    items: list[StepRead]
    total: int


# Connection groups --------------------------------------------------------------------------

Code = Annotated[str, Field(max_length=100_000), NoNul()]
GroupVariables = Annotated[
    dict[str, Annotated[str, Field(max_length=500), NoNul()]], NUL_FREE_KEYS
]


class GroupCreate(_Body):
    """A group of a step (`step_id`) or of the bot itself (`bot_id` alone: bot-level handlers,
    tried before the current step's, from any step); one of the two is needed. A `response`
    group needs `request_id`, a `code` group `code`, an `llm` group `llm`, an `integration`
    group `integration`."""

    step_id: RowId | None = None
    bot_id: RowId | None = None
    search_type: SearchType = "message"
    request_id: RowId | None = Field(default=None, description="`response`: a request of the same bot")
    code: Code | None = Field(default=None, description="`code`: `async def main(message, variables)`")
    llm: LlmAction | None = None
    integration: IntegrationAction | None = None
    variables: GroupVariables = Field(
        default_factory=dict,
        description="Variable -> JSONPath over the action's result (a `message` group: over the message, `$.text`; no scope: `session.`)"
    )
    order: int = Field(default=0, ge=-1_000_000, le=1_000_000, description="Groups are evaluated by ascending order")


class GroupUpdate(_Body):
    """Only the fields sent change; `null` keeps a field, but for `request_id`, `code`, `llm`
    and `integration` (clears it). The group stays where it is (step or bot)."""

    search_type: SearchType | None = None
    request_id: RowId | None = None
    code: Code | None = None
    llm: LlmAction | None = None
    integration: IntegrationAction | None = None
    variables: GroupVariables | None = None
    order: int | None = Field(default=None, ge=-1_000_000, le=1_000_000)


GROUP_NULLABLE = frozenset({"request_id", "code", "llm", "integration"})


class GroupRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: str
    bot_id: str
    step_id: str | None
    search_type: str
    request_id: str | None
    code: str | None
    llm: dict[str, Any] | None
    integration: dict[str, Any] | None
    variables: dict[str, str]
    order: int
    created_at: datetime
    updated_at: datetime


class GroupList(BaseModel):
    items: list[GroupRead]
    total: int


# Connections ------------------------------------------------------------------------------

Priority = Annotated[int, Field(ge=-1_000_000, le=1_000_000, description="Higher is tried first")]
Filters = Annotated[list[Filter], Field(max_length=3, description="Kinds of message it admits; empty: all")]


class ConnectionCreate(_Body):
    group_id: RowId
    rules: Rules = Field(default_factory=dict, description="jQuery-QueryBuilder rules; `{}` always holds")
    filters: Filters = Field(default_factory=list)
    priority: Priority = 0
    next_step_id: RowId | None = Field(default=None, description="A step of the same bot; null: stay")


class ConnectionUpdate(_Body):
    """Only the fields sent change; `null` keeps a field, but for `next_step_id` (clears it)."""

    rules: Rules | None = None
    filters: Filters | None = None
    priority: Priority | None = None
    next_step_id: RowId | None = None


class ConnectionRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: str
    bot_id: str
    group_id: str
    rules: dict[str, Any]
    filters: list[str]
    priority: int
    next_step_id: str | None
    created_at: datetime
    updated_at: datetime


class ConnectionList(BaseModel):
    items: list[ConnectionRead]
    total: int


# Requests ---------------------------------------------------------------------------------


class RequestCreate(RequestDoc):
    """An HTTP request a `response` group makes; `{$scope.key$}` is substituted in its URL,
    headers, params and body."""

    bot_id: RowId
    key: Key | None = Field(default=None, description="Its name in the bot's document, unique in the bot")  # type: ignore[assignment]


Method = Literal["GET", "POST", "PUT", "PATCH", "DELETE", "HEAD"]
BodyType = Literal["json", "form", "multipart"]


class RequestUpdate(_Body):
    """Only the fields sent change; `null` keeps a field, but for `key` and `body` (clears it)."""

    key: Key | None = None
    name: StepName | None = None
    method: Method | None = None
    url: Annotated[str, Field(min_length=1, max_length=4000), NoNul()] | None = None
    headers: Annotated[dict[str, Annotated[str, Field(max_length=8000), NoNul()]], NUL_FREE_KEYS] | None = None
    params: Annotated[dict[str, JsonValue], NUL_FREE_KEYS] | None = None
    body: JsonValue = None
    body_type: BodyType | None = None
    files: list[JsonObject] | None = None
    timeout: float | None = Field(default=None, gt=0, le=120)


class RequestRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: str
    bot_id: str
    key: str | None
    name: str
    method: str
    url: str
    headers: dict[str, str] = Field(description="Header values are shown as `***`")
    params: dict[str, Any]
    body: Any = None
    body_type: str
    files: list[dict[str, Any]]
    timeout: float
    created_at: datetime
    updated_at: datetime


class RequestList(BaseModel):
    items: list[RequestRead]
    total: int


# Templates --------------------------------------------------------------------------------


class TemplateBody(_Body):
    """A template's steps, as in a bot document: keys unique in the template, steps naming
    each other and the template's requests by key."""

    first_step: Key
    steps: list[StepDoc] = Field(min_length=1, max_length=1000)
    requests: list[RequestDoc] = Field(default_factory=list, max_length=1000)


TemplateName = Annotated[str, Field(min_length=1, max_length=200), NoNul()]


class TemplateCreate(_Body):
    key: Key | None = Field(default=None, description="Its name in bot documents")
    name: TemplateName
    description: Text = ""
    inputs: JsonObject = Field(default_factory=dict, description="JSON Schema of the inputs")
    outputs: JsonObject = Field(default_factory=dict, description="JSON Schema of the outputs")
    variables: JsonObject = Field(default_factory=dict)
    document: TemplateBody


class TemplateUpdate(_Body):
    """Only the fields sent change; `null` keeps a field, but for `key` (clears it)."""

    key: Key | None = None
    name: TemplateName | None = None
    description: Text | None = None
    inputs: JsonObject | None = None
    outputs: JsonObject | None = None
    variables: JsonObject | None = None
    document: TemplateBody | None = None


class TemplateRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: str
    key: str | None
    name: str
    description: str
    inputs: dict[str, Any]
    outputs: dict[str, Any]
    variables: dict[str, Any]
    document: dict[str, Any]
    created_at: datetime
    updated_at: datetime


class TemplateList(BaseModel):
    items: list[TemplateRead]
    total: int


# Sessions, variables, analytics -----------------------------------------------------------


class SessionRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: str
    user_key: str = Field(description="The end user: `user:<id>`, `<channel>:<platform user id>`, `anonymous:<client>`")
    channel: str
    chat_id: str | None
    step_id: str | None = Field(description="The step it waits in (null: at the start)")
    version: int | None
    variables: dict[str, Any] = Field(description="`session.*`")
    is_test: bool
    started_at: datetime
    updated_at: datetime
    ended_at: datetime | None


class SessionList(BaseModel):
    items: list[SessionRead]
    total: int


class UserVariablesRead(BaseModel):
    user_key: str
    variables: dict[str, Any]


class BotVariables(BaseModel):
    bot: dict[str, Any] = Field(description="`bot.*`")
    users: list[UserVariablesRead] = Field(description="`user.*` of the bot's end users (those with a session)")


class StepStats(BaseModel):
    step_id: str
    entered: int = Field(description="Sessions that entered the step (starting a session does not count)")
    moved_on: int = Field(description="Sessions that moved on from it")


class Analytics(BaseModel):
    steps: list[StepStats]
