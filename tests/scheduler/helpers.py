"""What the scheduler tests share: a user's notification channel, the delivery rows and chat
messages an event produced, and waiting for a condition with a deadline."""

from __future__ import annotations

import asyncio
import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import func, select, update

from agenthub.calendar.models import CalendarEvent
from agenthub.chats.models import ChatMessage
from agenthub.db.engine import SessionFactory, session_scope
from agenthub.notifications.models import NotificationChannel, NotificationDelivery
from agenthub.scheduler.worker import chat_of

DEADLINE = 30.0
"""Seconds a test waits for what must happen (a failure, not a timing, when it passes)."""


async def add_channel(sessions: SessionFactory, *, org_id: str, user_id: str, type_: str = "email") -> str:
    """A notification channel of the user's (the notification routes are another part's)."""
    channel_id = f"nch_{uuid.uuid4().hex}"
    async with session_scope(sessions) as session:
        session.add(NotificationChannel(
            id=channel_id, org_id=org_id, user_id=user_id, type=type_,
            address="owner@example.com" if type_ == "email" else None, chat_id="42" if type_ == "telegram" else None,
            priority=10,
        ))
    return channel_id


async def deliveries(sessions: SessionFactory, event_id: str) -> list[NotificationDelivery]:
    async with sessions() as session:
        rows = await session.scalars(
            select(NotificationDelivery)
            .where(NotificationDelivery.source == f"calendar:{event_id}")
            .order_by(NotificationDelivery.created_at)
        )
        return list(rows)


async def user_messages(sessions: SessionFactory, event_id: str) -> int:
    """The messages the event's runs sent its agent."""
    async with sessions() as session:
        count = await session.scalar(
            select(func.count()).select_from(ChatMessage)
            .where(ChatMessage.chat_id == chat_of(event_id), ChatMessage.role == "user")
        )
        return int(count or 0)


async def event_row(sessions: SessionFactory, event_id: str) -> CalendarEvent | None:
    async with sessions() as session:
        return await session.scalar(select(CalendarEvent).where(CalendarEvent.id == event_id))


async def set_event(sessions: SessionFactory, event_id: str, **values: Any) -> None:
    """Change the event's row directly (as AgentHub left it when it went down)."""
    async with session_scope(sessions) as session:
        await session.execute(update(CalendarEvent).where(CalendarEvent.id == event_id).values(**values))


async def eventually(probe, *, timeout: float = DEADLINE, interval: float = 0.05):  # type: ignore[no-untyped-def]
    """Poll ``probe`` (async) until it returns something truthy; fail at the deadline."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while True:
        value = await probe()
        if value:
            return value
        if loop.time() > deadline:
            raise AssertionError(f"not within {timeout}s: {getattr(probe, '__name__', probe)}")
        await asyncio.sleep(interval)


def iso(moment: datetime) -> str:
    return moment.isoformat().replace("+00:00", "Z")
