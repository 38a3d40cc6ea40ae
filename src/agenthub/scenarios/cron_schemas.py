"""A bot's crons as clients send and read them (``/api/v1/bots/{bot_id}/crons``): a cron
expression on the wall clock of an IANA time zone, and the step every session of the bot
that has not ended is moved to when it runs. The expression and the zone are checked here
(:mod:`agenthub.calendar.recurrence`); that the step is one of the bot's, by the service."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, field_validator

from agenthub.calendar import recurrence

CronExpression = Annotated[
    str,
    Field(
        min_length=1, max_length=120, json_schema_extra={"format": "cron"},
        description="When it runs, on the wall clock of `timezone`: minute hour day month weekday "
        "(a sixth field, seconds, may follow), as croniter reads it: `0 9 * * 1-5`",
    ),
]
TimeZone = Annotated[str, Field(min_length=1, max_length=64, description="An IANA time zone: Europe/Berlin, UTC")]
StepId = Annotated[
    str,
    Field(min_length=1, max_length=64, description="The step of this bot that every session not ended enters"),
]


def checked_zone(value: str | None) -> str | None:
    if value is not None:
        recurrence.zone(value)
    return value


def checked_cron(value: str | None) -> str | None:
    if value is not None:
        value = " ".join(value.split())
        recurrence.check_cron(value)
    return value


class CronCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    cron: CronExpression
    timezone: TimeZone = "UTC"
    step_id: StepId
    enabled: bool = True

    _check_zone = field_validator("timezone")(checked_zone)
    _check_cron = field_validator("cron")(checked_cron)


class CronUpdate(BaseModel):
    """Only the fields sent change (`null` keeps a field); a new expression, zone or
    `enabled` computes `next_run_at` again."""

    model_config = ConfigDict(extra="forbid")

    cron: CronExpression | None = None
    timezone: TimeZone | None = None
    step_id: StepId | None = None
    enabled: bool | None = None

    _check_zone = field_validator("timezone")(checked_zone)
    _check_cron = field_validator("cron")(checked_cron)


class CronRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: str
    bot_id: str
    cron: str
    timezone: str
    step_id: str
    enabled: bool
    next_run_at: datetime | None = Field(description="When it runs next (UTC); null: disabled")
    created_at: datetime
    updated_at: datetime


class CronList(BaseModel):
    items: list[CronRead]
    total: int
