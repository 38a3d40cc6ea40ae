"""Calendar events: each user's own, in their organisation. Logic only (no HTTP): the routes
are :mod:`agenthub.calendar.api`; the scheduler takes due events through
:mod:`agenthub.calendar.leases`.

Who may name which agent is the rule of chatting with it (:mod:`agenthub.access.rules`), a
layer above this one: the app passes it in as an :class:`AgentAccess`.
"""

from __future__ import annotations

import uuid
from collections.abc import Collection, Sequence
from datetime import datetime
from typing import Any, Protocol

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from agenthub.agents import service as agents_service
from agenthub.calendar import recurrence
from agenthub.calendar.models import CalendarEvent
from agenthub.calendar.schemas import EventCreate, EventRead, EventUpdate
from agenthub.caller import Caller
from agenthub.db.base import utcnow
from agenthub.errors import InvalidInput, NotFound
from agenthub.notifications import service as notifications_service
from agenthub.notifications.models import CHANNEL_TYPES

SCHEDULE_FIELDS = frozenset({"start_at", "timezone", "cron", "enabled"})
"""Fields whose change sets when the event runs next."""
NULLABLE_FIELDS = frozenset({"cron", "channels"})
"""Fields a PATCH may set to null; null for any other keeps it."""


class AgentAccess(Protocol):
    """The internal id of the organisation's agent ``agent_id`` (its handle) when ``caller``
    may chat with it; NotFound or Forbidden otherwise, as the chat routes answer."""

    async def __call__(self, caller: Caller, agent_id: str) -> str: ...


def new_event_id() -> str:
    return f"evt_{uuid.uuid4().hex}"


async def _checked_channels(
    session: AsyncSession, caller: Caller, names: Sequence[str] | None, set_up: Collection[str]
) -> list[str] | None:
    """``names`` if each is a channel type or the id of one of the caller's channels (else
    NotFound, as for any id that names nothing of the caller's) and this server sends on it
    (its type in ``set_up``, else InvalidInput); None for none (the user's channels in
    priority order)."""
    if not names:
        return None
    mine = {c.id: c.type for c in await notifications_service.channels_of(
        session, org_id=caller.org_id, user_id=str(caller.user_id))}
    for index, name in enumerate(names):
        if name not in CHANNEL_TYPES and name not in mine:
            raise NotFound(
                f"channels[{index}]: {name!r} is neither a channel type ({', '.join(CHANNEL_TYPES)}) "
                "nor one of your notification channels"
            )
        channel_type = mine.get(name, name)
        if channel_type not in set_up:
            notifications_service.refuse_unset(channel_type, f"channels.{index}")
    return list(dict.fromkeys(names))


def _schedule(event: CalendarEvent, now: datetime) -> None:
    """Set when ``event`` runs next from its schedule (start, zone, cron), as of ``now``."""
    if not event.enabled:
        event.next_run_at = None
        return
    tz = recurrence.zone(event.timezone)
    try:
        event.next_run_at = recurrence.first_run(start_at=event.start_at, cron=event.cron, tz=tz, now=now)
    except ValueError as error:
        raise InvalidInput(str(error), field="cron", problem="never runs") from None


async def create(
    session: AsyncSession, *, caller: Caller, data: EventCreate, agents: AgentAccess, set_up: Collection[str],
    now: datetime | None = None,
) -> CalendarEvent:
    """A new event of the caller's (a user); a ``start_at`` without offset is in ``timezone``;
    ``set_up``: the channel types this server sends on (the only ones ``channels`` may name)."""
    agent_id = await agents(caller, data.agent_id)
    tz = recurrence.zone(data.timezone)
    event = CalendarEvent(
        id=new_event_id(), org_id=caller.org_id, user_id=caller.user_id, agent_id=agent_id, title=data.title,
        prompt=data.prompt, start_at=recurrence.to_utc(data.start_at, tz), timezone=data.timezone, cron=data.cron,
        channels=await _checked_channels(session, caller, data.channels, set_up), missed=data.missed, enabled=data.enabled,
    )
    _schedule(event, now or utcnow())
    session.add(event)
    await session.flush()
    return event


async def list_(session: AsyncSession, *, caller: Caller) -> list[CalendarEvent]:
    """The caller's events, the next to run first (those that run no more last)."""
    rows = await session.scalars(
        select(CalendarEvent)
        .where(CalendarEvent.org_id == caller.org_id, CalendarEvent.user_id == caller.user_id)
        .order_by(CalendarEvent.next_run_at.is_(None), CalendarEvent.next_run_at, CalendarEvent.created_at)
    )
    return list(rows)


async def get(session: AsyncSession, *, caller: Caller, event_id: str) -> CalendarEvent:
    """The caller's event; NotFound for anyone else's (another user's of the organisation too)."""
    event = await session.scalar(
        select(CalendarEvent).where(
            CalendarEvent.id == event_id, CalendarEvent.org_id == caller.org_id,
            CalendarEvent.user_id == caller.user_id,
        )
    )
    if event is None:
        raise NotFound(f"event {event_id!r} not found")
    return event


async def update(
    session: AsyncSession, *, caller: Caller, event_id: str, data: EventUpdate, agents: AgentAccess,
    set_up: Collection[str], now: datetime | None = None,
) -> CalendarEvent:
    """Change what is sent; a change of start, zone, cron or ``enabled`` reschedules it (runs
    a re-armed one-time event again). A ``start_at`` without offset is in the (new) zone."""
    sent = {
        name: value for name, value in data.model_dump(exclude_unset=True).items()
        if value is not None or name in NULLABLE_FIELDS
    }
    changes: dict[str, Any] = {}
    if "agent_id" in sent:
        # Before this session reads anything: the check uses sessions of its own, and SQLite
        # has one connection, which this session would hold meanwhile.
        changes["agent_id"] = await agents(caller, sent["agent_id"])
    event = await get(session, caller=caller, event_id=event_id)
    if "channels" in sent:
        changes["channels"] = await _checked_channels(session, caller, sent["channels"], set_up)
    tz = recurrence.zone(sent.get("timezone", event.timezone))
    if "start_at" in sent:
        changes["start_at"] = recurrence.to_utc(sent["start_at"], tz)
    for name in ("title", "prompt", "timezone", "cron", "missed", "enabled"):
        if name in sent:
            changes[name] = sent[name]
    for name, value in changes.items():
        setattr(event, name, value)
    if SCHEDULE_FIELDS & set(sent):
        _schedule(event, now or utcnow())
    await session.flush()
    return event


async def delete(session: AsyncSession, *, caller: Caller, event_id: str) -> None:
    """Delete it: it runs no more (a run under way still sends its answer)."""
    event = await get(session, caller=caller, event_id=event_id)
    await session.delete(event)
    await session.flush()


async def read(session: AsyncSession, events: Sequence[CalendarEvent]) -> list[EventRead]:
    """The events as clients read them: the agent named by its organisation's handle."""
    handles = await agents_service.handles(session, {e.agent_id for e in events})
    return [
        EventRead(
            id=e.id, title=e.title, agent_id=handles.get(e.agent_id, e.agent_id), prompt=e.prompt,
            start_at=e.start_at, timezone=e.timezone, cron=e.cron, channels=e.channels, missed=e.missed,
            enabled=e.enabled, next_run_at=e.next_run_at, last_run_at=e.last_run_at, created_at=e.created_at,
            updated_at=e.updated_at,
        )
        for e in events
    ]
