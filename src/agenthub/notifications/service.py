"""Notifications: what the rest of AgentHub calls to tell a user something.

:func:`notify` only writes: it adds ``pending`` delivery rows in the caller's transaction (an
outbox), so a notification is never lost between a commit and a send, and nothing is sent
for work that was rolled back. The dispatcher (``dispatcher.py``) sends pending rows, retries
with backoff, and falls back to the user's next channel when one fails for good.

By default a notification goes to the user's channels in priority order, one at a time, with
fallback: one row for the first channel now, the next channel's row only if that one fails.
Named channels (types such as ``"email"``, or ids of the user's channels) each get their own
row, sent independently.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from agenthub.db.base import utcnow
from agenthub.notifications.models import CHANNEL_TYPES, NotificationChannel, NotificationDelivery


def new_id(prefix: str) -> str:
    return f"{prefix}_{uuid.uuid4().hex}"


async def channels_of(session: AsyncSession, *, org_id: str, user_id: str) -> list[NotificationChannel]:
    """The user's channels, the lowest priority number first (then the oldest)."""
    rows = await session.scalars(
        select(NotificationChannel)
        .where(NotificationChannel.org_id == org_id, NotificationChannel.user_id == user_id)
        .order_by(NotificationChannel.priority, NotificationChannel.created_at, NotificationChannel.id)
    )
    return list(rows)


def _named(channels: list[NotificationChannel], names: Sequence[str]) -> list[NotificationChannel]:
    """The user's channels ``names`` points at: every channel of a named type, or the channel of
    a named id, each once, in priority order."""
    wanted = set(names)
    return [c for c in channels if c.id in wanted or (c.type in wanted and c.type in CHANNEL_TYPES)]


async def notify(
    session: AsyncSession,
    *,
    org_id: str,
    user_id: str,
    body: str,
    subject: str = "",
    channels: Sequence[str] | None = None,
    source: str | None = None,
) -> list[NotificationDelivery]:
    """Queue a notification for the user (flushed, not committed: the caller commits). The
    rows it added; none when the user has no channel (or none of the named ones)."""
    mine = await channels_of(session, org_id=org_id, user_id=user_id)
    targets = _named(mine, channels) if channels else mine[:1]
    notification_id = new_id("ntf")
    now = utcnow()
    rows = [
        NotificationDelivery(
            id=new_id("dlv"), notification_id=notification_id, org_id=org_id, user_id=user_id,
            channel=channel.type, channel_id=channel.id, subject=subject[:300], body=body, source=source,
            status="pending", attempts=0, next_attempt_at=now,
        )
        for channel in targets
    ]
    session.add_all(rows)
    await session.flush()
    return rows
