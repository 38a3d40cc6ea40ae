"""The bot document, ``agenthub.bot/v1``: a whole bot as one JSON document.

It is the contract users share bots with (``GET /api/v1/bots/{id}/export``, ``POST
/api/v1/bots/import``), what publishing freezes and what sessions run. Steps, requests and
templates are named by a ``key`` unique in the document (in a template: unique in the
template) and refer to each other by key::

    {"format": "agenthub.bot/v1", "name": "Pizza", "first_step": "hello", "variables": {...},
     "connection_groups": [...],          # the bot-level handlers (/start, /help, cancel)
     "steps": [{"key": "hello", "message": {"text": "Hi {$user.first_name$}!", "widget": {...}},
                "is_proxy": false, "connection_groups": [
                   {"search_type": "message", "connections": [
                      {"rules": {...}, "filters": [], "priority": 10, "next_step": "size"}]}],
                "emitter": {"delay_seconds": 60, "next_step": "reminder"}}],
     "requests": [{"key": "menu", "method": "GET", "url": "https://example.com/menu"}],
     "templates": [], "crons": []}

:func:`parse` validates a document and every reference in it, and says where a problem is
(``steps[1].connection_groups[0].connections[0].next_step: no step 'siz'``).
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, ValidationError
from pydantic_core import PydanticCustomError

from agenthub.calendar import recurrence
from agenthub.errors import InvalidInput
from agenthub.fields import JsonObject, JsonValue, NoNul, OptionalName, Visible, _NulFree
from agenthub.scenarios.rules import validate_rules

FORMAT = "agenthub.bot/v1"
MASK = "***"
"""What reads and exports show of a request header's secret value."""
KEY_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9_.:-]{0,63}$"
Key = Annotated[str, Field(pattern=KEY_PATTERN, description="A name unique in the document")]
Text = Annotated[str, Field(max_length=20_000), NoNul()]
SearchType = Literal["message", "response", "code", "llm", "integration"]
Filter = Literal["text", "button", "attachment"]
MAX_ITEMS = 1000
NUL_FREE_KEYS = _NulFree()
"""The JSON schema of a dict says what the JSON reader checks: no NUL in its keys."""


class _Part(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Button(_Part):
    text: Annotated[str, Field(min_length=1, max_length=200), NoNul()]
    value: Annotated[str, Field(max_length=200), NoNul()] | None = Field(
        default=None, description="What pressing it sends (default: its text)"
    )


class Widget(_Part):
    buttons: list[Button] = Field(default_factory=list, max_length=100)


class Message(_Part):
    """What entering a step sends; ``{$scope.key$}`` is substituted in ``text``."""

    text: Text = ""
    params: JsonObject = Field(default_factory=dict, description="Channel options (parse mode...)")
    attachments: list[Annotated[str, Field(max_length=64), NoNul()]] = Field(
        default_factory=list, max_length=20, description="File ids (`POST /api/v1/files`)"
    )
    widget: Widget | None = None


class LlmAction(_Part):
    agent_id: str = Field(pattern=r"^[a-z0-9][a-z0-9_-]{1,63}$", description="An LLM agent of the organisation")
    prompt: Text = Field(description="What it is asked (with substitution)")


class IntegrationAction(_Part):
    name: str = Field(pattern=r"^[a-z][a-z0-9_]*\.[a-z][a-z0-9_]*$", description="`telegram.send_message`...")
    config: JsonObject = Field(default_factory=dict)


def _valid_rules(rules: dict[str, Any]) -> dict[str, Any]:
    try:
        validate_rules(rules)
    except ValueError as error:
        raise PydanticCustomError("invalid_rules", "{problem}", {"problem": str(error)}) from None
    return rules


Rules = Annotated[JsonObject, AfterValidator(_valid_rules)]
"""A connection's rules, jQuery-QueryBuilder JSON that :mod:`agenthub.scenarios.rules` evaluates
(refused where it could not: an unknown operator, a group without rules...); `{}` always holds."""


class ConnectionDoc(_Part):
    rules: Rules = Field(default_factory=dict, description="jQuery-QueryBuilder rules; `{}` always holds")
    filters: list[Filter] = Field(default_factory=list, description="Kinds of message it admits; empty: all")
    priority: int = Field(default=0, ge=-1_000_000, le=1_000_000, description="Higher is tried first")
    next_step: Key | None = Field(default=None, description="The step it moves to (none: stay)")


class GroupDoc(_Part):
    search_type: SearchType = "message"
    request: Key | None = Field(default=None, description="`response`: the request it makes")
    code: Annotated[str, Field(max_length=100_000), NoNul()] | None = Field(
        default=None, description="`code`: `async def main(message, variables)` run in the sandbox"
    )
    llm: LlmAction | None = None
    integration: IntegrationAction | None = None
    variables: Annotated[dict[str, Annotated[str, Field(max_length=500), NoNul()]], NUL_FREE_KEYS] = Field(
        default_factory=dict, description="Variable -> JSONPath over the action's result (a `message` group: over the message, `$.text`)"
    )
    connections: list[ConnectionDoc] = Field(default_factory=list, max_length=MAX_ITEMS)


class Emitter(_Part):
    delay_seconds: float = Field(gt=0, le=366 * 86400)
    next_step: Key


class TemplateUse(_Part):
    """A step that is an instance of a template."""

    template: Key
    inputs: Annotated[dict[str, JsonValue], NUL_FREE_KEYS] = Field(default_factory=dict)
    outputs: Annotated[dict[str, Annotated[str, Field(max_length=200), NoNul()]], NUL_FREE_KEYS] = Field(
        default_factory=dict, description="Template output -> variable it is saved to"
    )


class StepDoc(_Part):
    key: Key
    name: OptionalName = ""
    message: Message = Field(default_factory=Message)
    is_proxy: bool = False
    preset_id: Annotated[str, Field(max_length=64)] | None = None
    emitter: Emitter | None = None
    template: TemplateUse | None = None
    position: JsonObject | None = None
    connection_groups: list[GroupDoc] = Field(default_factory=list, max_length=100)


class RequestDoc(_Part):
    key: Key
    name: OptionalName = ""
    method: Literal["GET", "POST", "PUT", "PATCH", "DELETE", "HEAD"] = "GET"
    url: Annotated[str, Field(min_length=1, max_length=4000), NoNul()]
    headers: Annotated[dict[str, Annotated[str, Field(max_length=8000), NoNul()]], NUL_FREE_KEYS] = Field(
        default_factory=dict
    )
    params: Annotated[dict[str, JsonValue], NUL_FREE_KEYS] = Field(default_factory=dict)
    body: JsonValue = None
    body_type: Literal["json", "form", "multipart"] = "json"
    files: list[JsonObject] = Field(default_factory=list, description='Multipart files: `[{"field", "file_id"}]`')
    timeout: float = Field(default=10.0, gt=0, le=120)


class TemplateDoc(_Part):
    key: Key
    name: Annotated[str, Field(min_length=1, max_length=200), NoNul()]
    description: Text = ""
    inputs: JsonObject = Field(default_factory=dict, description="JSON Schema of the inputs")
    outputs: JsonObject = Field(default_factory=dict, description="JSON Schema of the outputs")
    variables: JsonObject = Field(default_factory=dict)
    first_step: Key
    steps: list[StepDoc] = Field(min_length=1, max_length=MAX_ITEMS)
    requests: list[RequestDoc] = Field(default_factory=list, max_length=MAX_ITEMS)


def _cron(value: str) -> str:
    value = " ".join(value.split())
    recurrence.check_cron(value)
    return value


def _zone(value: str) -> str:
    recurrence.zone(value)
    return value


class CronDoc(_Part):
    """At each time ``cron`` names on the wall clock of ``timezone``, every session of the
    bot that has not ended enters ``step``."""

    cron: Annotated[str, Field(min_length=1, max_length=120, json_schema_extra={"format": "cron"}), AfterValidator(_cron)]
    timezone: Annotated[str, Field(max_length=64), AfterValidator(_zone)] = "UTC"
    step: Key
    enabled: bool = True


class BotDocument(_Part):
    format: Literal["agenthub.bot/v1"] = "agenthub.bot/v1"
    name: Annotated[str, Field(max_length=200), Visible()]
    description: Text = ""
    first_step: Key
    variables: JsonObject = Field(default_factory=dict)
    connection_groups: list[GroupDoc] = Field(default_factory=list, max_length=100)
    steps: list[StepDoc] = Field(min_length=1, max_length=MAX_ITEMS)
    requests: list[RequestDoc] = Field(default_factory=list, max_length=MAX_ITEMS)
    templates: list[TemplateDoc] = Field(default_factory=list, max_length=100)
    crons: list[CronDoc] = Field(default_factory=list, max_length=100)


class _References:
    """Checks that every key named in a part of a document exists there."""

    def __init__(self) -> None:
        self.problems: list[tuple[str, str]] = []

    def unique(self, where: str, keys: list[str], what: str) -> set[str]:
        seen: set[str] = set()
        for index, key in enumerate(keys):
            if key in seen:
                self.problems.append((f"{where}.{index}.key", f"a second {what} {key!r}"))
            seen.add(key)
        return seen

    def named(self, where: str, key: str | None, keys: set[str], what: str) -> None:
        if key is not None and key not in keys:
            self.problems.append((where, f"no {what} {key!r}"))

    def groups(self, where: str, groups: list[GroupDoc], steps: set[str], requests: set[str]) -> None:
        for g, group in enumerate(groups):
            at = f"{where}.{g}"
            self.named(f"{at}.request", group.request, requests, "request")
            needs = {"response": ("request", group.request), "code": ("code", group.code),
                     "llm": ("llm", group.llm), "integration": ("integration", group.integration)}
            if group.search_type in needs and needs[group.search_type][1] is None:
                field = needs[group.search_type][0]
                self.problems.append((f"{at}.{field}", f"a {group.search_type!r} group needs {field}"))
            for c, connection in enumerate(group.connections):
                self.named(f"{at}.connections.{c}.next_step", connection.next_step, steps, "step")

    def steps(self, where: str, steps: list[StepDoc], requests: set[str], templates: set[str]) -> set[str]:
        keys = self.unique(where, [step.key for step in steps], "step")
        for s, step in enumerate(steps):
            at = f"{where}.{s}"
            self.groups(f"{at}.connection_groups", step.connection_groups, keys, requests)
            if step.emitter is not None:
                self.named(f"{at}.emitter.next_step", step.emitter.next_step, keys, "step")
            if step.template is not None:
                self.named(f"{at}.template.template", step.template.template, templates, "template")
        return keys


def references(document: BotDocument) -> list[tuple[str, str]]:
    """Where a document names a key it does not hold, or holds one twice: ``(where, problem)``."""
    check = _References()
    templates = check.unique("templates", [t.key for t in document.templates], "template")
    for t, template in enumerate(document.templates):
        template_requests = check.unique(f"templates.{t}.requests", [r.key for r in template.requests], "request")
        keys = check.steps(f"templates.{t}.steps", template.steps, template_requests, set())
        check.named(f"templates.{t}.first_step", template.first_step, keys, "step")
    requests = check.unique("requests", [r.key for r in document.requests], "request")
    steps = check.steps("steps", document.steps, requests, templates)
    check.named("first_step", document.first_step, steps, "step")
    check.groups("connection_groups", document.connection_groups, steps, requests)
    for c, cron in enumerate(document.crons):
        check.named(f"crons.{c}.step", cron.step, steps, "step")
    return check.problems


def parse(data: Any) -> BotDocument:
    """The document in ``data``, validated with every reference; InvalidInput saying where
    the first problem is (``field`` the path in the document) otherwise."""
    try:
        document = BotDocument.model_validate(data)
    except ValidationError as error:
        problem = error.errors()[0]
        where = ".".join(str(part) for part in problem["loc"]) or "document"
        raise InvalidInput(f"{where}: {problem['msg']}", field=where, problem=problem["msg"]) from None
    problems = references(document)
    if problems:
        where, said = problems[0]
        raise InvalidInput(f"{where}: {said}", field=where, problem=said)
    return document


def dump(document: BotDocument) -> dict[str, Any]:
    """The document as JSON, without the fields left at their defaults in each part (but
    the ones every reader needs)."""
    return document.model_dump(mode="json", exclude_defaults=True) | {
        "format": FORMAT, "name": document.name, "first_step": document.first_step,
    }
