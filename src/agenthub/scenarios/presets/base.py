"""What a preset is, and the builder it makes its rows with.

A preset is a name, a description, a pydantic ``Config`` model (its JSON Schema is what
``POST /api/v1/bots/{id}/presets`` takes as ``config``) and ``build(config, builder)``,
which adds the preset's steps, connection groups and connections to the bot's draft
through :class:`Builder` (the scenario services, :mod:`agenthub.scenarios.service_parts`)
and returns the step the preset is entered by. Every step it makes carries the one
``preset_id`` of that application.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy.ext.asyncio import AsyncSession

from agenthub.caller import Caller
from agenthub.errors import InvalidInput
from agenthub.fields import NoNul
from agenthub.scenarios import service_parts
from agenthub.scenarios.document import Button, Message, Widget
from agenthub.scenarios.models import Connection, ConnectionGroup, Step
from agenthub.scenarios.schemas import ConnectionCreate, EmitterFields, GroupCreate, RowId, StepCreate

StepRef = Annotated[RowId, Field(description="The id of a step of the same bot")]
VariableName = Annotated[
    str, Field(min_length=1, max_length=200, pattern=r"^((bot|user|session|channel)\.)?[A-Za-z_][A-Za-z0-9_]*$",
               description="Where the value is saved: `session.x` (a name without a scope is a session "
                           "variable), `user.x`, `channel.x`, `bot.x`"),
]
StepName = Annotated[str, Field(max_length=150), NoNul()]


class PresetConfig(BaseModel):
    """What every preset's config takes."""

    model_config = ConfigDict(extra="forbid")

    name: StepName = Field(default="", description="The name of the steps it makes (default: the preset's)")
    from_step_id: StepRef | None = Field(
        default=None,
        description="An existing step that goes on to this preset: a connection group is added to it, after "
        "its others, with one connection that always holds",
    )


@dataclass
class Built:
    """The rows one application of a preset made."""

    steps: list[Step] = field(default_factory=list)
    groups: list[ConnectionGroup] = field(default_factory=list)
    connections: list[Connection] = field(default_factory=list)


class Builder:
    """Adds rows to one bot's draft, in the caller's transaction, marking steps with ``preset_id``."""

    def __init__(self, session: AsyncSession, *, caller: Caller, bot_id: str, preset_id: str, name: str) -> None:
        self.session, self.caller, self.bot_id = session, caller, bot_id
        self.preset_id, self.name = preset_id, name
        self.built = Built()

    async def step(
        self, suffix: str = "", *, text: str = "", buttons: list[Button] | None = None, proxy: bool = False,
        emitter: EmitterFields | None = None,
    ) -> Step:
        message = Message(text=text, widget=Widget(buttons=buttons) if buttons else None)
        data = StepCreate(
            bot_id=self.bot_id, name=f"{self.name}{': ' + suffix if suffix else ''}", message=message,
            is_proxy=proxy, preset_id=self.preset_id, emitter=emitter,
        )
        step = await service_parts.create_step(self.session, caller=self.caller, data=data)
        self.built.steps.append(step)
        return step

    async def group(self, step: Step, *, order: int = 0, **fields: Any) -> ConnectionGroup:
        data = GroupCreate(step_id=step.id, order=order, **fields)
        group = await service_parts.create_group(self.session, caller=self.caller, data=data)
        self.built.groups.append(group)
        return group

    async def connect(
        self, group: ConnectionGroup, next_step_id: str | None, *, rules: dict[str, Any] | None = None,
        priority: int = 0,
    ) -> Connection:
        data = ConnectionCreate(group_id=group.id, rules=rules or {}, priority=priority, next_step_id=next_step_id)
        connection = await service_parts.create_connection(self.session, caller=self.caller, data=data)
        self.built.connections.append(connection)
        return connection


Build = Callable[[Any, Builder], Awaitable[Step]]
"""Makes the preset's rows; returns the step it is entered by."""


@dataclass(frozen=True)
class Preset:
    name: str
    description: str
    config: type[PresetConfig]
    build: Build

    def describe(self) -> dict[str, Any]:
        return {"preset": self.name, "description": self.description, "config_schema": self.config.model_json_schema()}


def rule(field_name: str, operator: str, value: Any = None, **more: Any) -> dict[str, Any]:
    """One rule as a rule set (QueryBuilder JSON)."""
    found: dict[str, Any] = {"field": field_name, "operator": operator, **more}
    if value is not None:
        found["value"] = value
    return {"condition": "AND", "rules": [found]}


def needed(field_name: str, problem: str) -> InvalidInput:
    """A config field the preset needs in this combination."""
    return InvalidInput(f"config.{field_name}: {problem}", field=f"config.{field_name}", problem=problem)
