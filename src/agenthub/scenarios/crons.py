"""A bot's crons: create, list, read, change, delete. No HTTP here (the routes are
:mod:`agenthub.scenarios.crons_api`); the scheduler that runs them is
:mod:`agenthub.scheduler.scenario_timers`.

A cron is a row of the bot's draft (the document's ``crons``, so export and import carry
it) that the scheduler reads as it is: a change takes effect at once, without a publish.
When it runs, every session of the bot that has not ended enters its step (by the step's
key, in the version the sessions run). ``next_run_at`` is computed here on every change
of the expression, the zone or ``enabled`` (null while disabled); the scheduler moves it
on each time it runs.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from agenthub.calendar import recurrence
from agenthub.caller import Caller
from agenthub.db.base import utcnow
from agenthub.errors import InvalidInput, NotFound
from agenthub.scenarios.cron_schemas import CronCreate, CronUpdate
from agenthub.scenarios.export import new_id
from agenthub.scenarios.models import BotCron
from agenthub.scenarios.service import bot_of, step_in_bot, touch

SCHEDULE_FIELDS = frozenset({"cron", "timezone", "enabled"})


def next_run(cron: BotCron, now: datetime | None = None) -> datetime | None:
    """When ``cron`` runs next after ``now``: None when disabled; InvalidInput on ``cron``
    when the expression names no time to come (a year gone by)."""
    if not cron.enabled:
        return None
    try:
        return recurrence.next_after(cron.cron, recurrence.zone(cron.timezone), now or utcnow())
    except ValueError as error:
        raise InvalidInput(f"cron: {error}", field="cron", problem="never runs again") from None


async def create_cron(session: AsyncSession, *, caller: Caller, bot_id: str, data: CronCreate) -> BotCron:
    bot = await bot_of(session, caller, bot_id)
    await step_in_bot(session, bot.id, data.step_id, "step_id")
    cron = BotCron(
        id=new_id("crn"), org_id=bot.org_id, bot_id=bot.id, cron=data.cron, timezone=data.timezone,
        step_id=data.step_id, enabled=data.enabled,
    )
    cron.next_run_at = next_run(cron)
    session.add(cron)
    touch(bot)
    await session.flush()
    return cron


async def list_crons(session: AsyncSession, *, caller: Caller, bot_id: str) -> tuple[list[BotCron], int]:
    bot = await bot_of(session, caller, bot_id)
    rows = list(await session.scalars(
        select(BotCron).where(BotCron.bot_id == bot.id).order_by(BotCron.created_at, BotCron.id)
    ))
    total = await session.scalar(select(func.count()).select_from(BotCron).where(BotCron.bot_id == bot.id))
    return rows, int(total or 0)


async def get_cron(session: AsyncSession, *, caller: Caller, bot_id: str, cron_id: str) -> BotCron:
    """The cron ``cron_id`` of the caller's bot ``bot_id``; NotFound otherwise."""
    bot = await bot_of(session, caller, bot_id)
    cron = await session.scalar(select(BotCron).where(BotCron.id == cron_id, BotCron.bot_id == bot.id))
    if cron is None:
        raise NotFound(f"cron {cron_id!r} not found")
    return cron


async def update_cron(
    session: AsyncSession, *, caller: Caller, bot_id: str, cron_id: str, data: CronUpdate
) -> BotCron:
    """Change the fields sent; a new expression, zone or ``enabled`` reschedules it from now."""
    cron = await get_cron(session, caller=caller, bot_id=bot_id, cron_id=cron_id)
    sent: dict[str, Any] = {
        name: value for name, value in data.model_dump().items()
        if name in data.model_fields_set and value is not None and value != getattr(cron, name)
    }
    if not sent:
        return cron
    if "step_id" in sent:
        await step_in_bot(session, cron.bot_id, sent["step_id"], "step_id")
    for name, value in sent.items():
        setattr(cron, name, value)
    if SCHEDULE_FIELDS & set(sent):
        cron.next_run_at = next_run(cron)
    cron.updated_at = utcnow()
    touch(await bot_of(session, caller, bot_id))
    await session.flush()
    return cron


async def delete_cron(session: AsyncSession, *, caller: Caller, bot_id: str, cron_id: str) -> None:
    cron = await get_cron(session, caller=caller, bot_id=bot_id, cron_id=cron_id)
    await session.delete(cron)
    touch(await bot_of(session, caller, bot_id))
    await session.flush()
