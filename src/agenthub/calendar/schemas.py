"""Calendar events as clients send and read them. What needs the database (the agent, the
user's channels) or the clock is checked by :mod:`agenthub.calendar.service`; the shape,
the time zone and the cron are checked here."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from agenthub.agents.schemas import AGENT_ID_PATTERN
from agenthub.calendar import recurrence
from agenthub.fields import NoNul, Visible

MAX_CHANNELS = 10
Title = Annotated[str, Field(min_length=1, max_length=200), NoNul(), Visible()]
Prompt = Annotated[str, Field(min_length=1, max_length=32_000), NoNul(), Visible()]
TimeZone = Annotated[str, Field(min_length=1, max_length=64, description="An IANA time zone: Europe/Berlin, UTC")]
Cron = Annotated[
    str,
    Field(
        min_length=1, max_length=120,
        description="A cron schedule on the wall clock of `timezone`: minute hour day month weekday "
        "(a sixth field, seconds, may follow); unset: the event runs once, at `start_at`",
    ),
]
ChannelName = Annotated[str, Field(min_length=1, max_length=64), NoNul()]
Channels = Annotated[
    list[ChannelName],
    Field(
        max_length=MAX_CHANNELS,
        description="Channel types (`email`, `telegram`) or ids of your notification channels, each sent to; "
        "unset or empty: your channels in priority order, with fallback",
    ),
]
Missed = Literal["run_once", "skip"]
AgentHandle = Annotated[str, Field(pattern=AGENT_ID_PATTERN, description="The agent's id in your organisation")]


def _zone(value: str | None) -> str | None:
    if value is not None:
        recurrence.zone(value)
    return value


def _year(value: datetime | None) -> datetime | None:
    if value is not None:
        recurrence.check_year(value)
    return value


def _cron(value: str | None) -> str | None:
    if value is not None:
        value = " ".join(value.split())
        recurrence.check_cron(value)
    return value


class EventCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    title: Title
    agent_id: AgentHandle
    prompt: Prompt = Field(description="The message the agent gets each time the event runs")
    start_at: datetime = Field(
        description="When it runs (once), or from when (with `cron`); without an offset it is a time in "
        "`timezone`; in the years 1970 to 2199"
    )
    timezone: TimeZone = "UTC"
    cron: Cron | None = None
    channels: Channels | None = None
    missed: Missed = Field(
        default="run_once",
        description="Runs missed while AgentHub was down: `run_once` (one run now for all of them) or `skip` "
        "(none; the next one on schedule)",
    )
    enabled: bool = True

    _check_zone = field_validator("timezone")(_zone)
    _check_cron = field_validator("cron")(_cron)
    _check_year = field_validator("start_at")(_year)


class EventUpdate(BaseModel):
    """Only the fields sent change; `null` keeps a field too, but for `cron` (null: the event
    runs once, at `start_at`) and `channels` (null: your channels in priority order)."""

    model_config = ConfigDict(extra="forbid")

    title: Title | None = None
    agent_id: AgentHandle | None = None
    prompt: Prompt | None = None
    start_at: datetime | None = None
    timezone: TimeZone | None = None
    cron: Cron | None = None
    channels: Channels | None = None
    missed: Missed | None = None
    enabled: bool | None = None

    _check_zone = field_validator("timezone")(_zone)
    _check_cron = field_validator("cron")(_cron)
    _check_year = field_validator("start_at")(_year)


class EventRead(BaseModel):
    id: str
    title: str
    agent_id: str = Field(description="The agent's id in your organisation")
    prompt: str
    start_at: datetime
    timezone: str
    cron: str | None
    channels: list[str] | None
    missed: str
    enabled: bool
    next_run_at: datetime | None = Field(description="When it runs next (UTC); null: not again")
    last_run_at: datetime | None
    created_at: datetime
    updated_at: datetime


class EventList(BaseModel):
    items: list[EventRead]
    total: int
