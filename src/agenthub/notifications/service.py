"""Notifications: what the rest of AgentHub calls to tell a user something, and each user's
channels and delivery log.

:func:`notify` only writes: it adds ``pending`` delivery rows in the caller's transaction (an
outbox), so a notification is never lost between a commit and a send, and nothing is sent
for work that was rolled back. The dispatcher (``dispatcher.py``) sends pending rows, retries
with backoff, and falls back to the user's next channel when one fails for good.

By default a notification goes to the user's channels in priority order, one at a time, with
fallback: one row for the first channel now, the next channel's row only if that one fails.
Named channels (types such as ``"email"``, or ids of the user's channels) each get their own
row, sent independently.

Channels and deliveries are a user's own: every function here is scoped by the organisation
and the user, and another user's (an admin's too) channel is not found.

A server that does not send e-mail (``SMTP_HOST`` unset) takes no new e-mail channel, no new
address for one, and no notification naming one (422 saying so): its deliveries could only
fail. E-mail channels added while it did stay; a default notification that reaches one
fails there, saying why, and falls back to the next channel.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Collection, Sequence
from typing import NoReturn

from sqlalchemy import event, select
from sqlalchemy.ext.asyncio import AsyncSession

from agenthub.db.base import utcnow
from agenthub.db.engine import SessionFactory
from agenthub.errors import Conflict, InvalidInput, NotFound
from agenthub.notifications.models import CHANNEL_TYPES, NotificationChannel, NotificationDelivery
from agenthub.notifications.schemas import (
    MAX_CHANNELS_PER_USER,
    ChannelCreate,
    ChannelUpdate,
    DeliveryStatus,
    NotificationCreate,
)
from agenthub.notifications.senders import NOT_SET_UP

WAKE = "agenthub.notifications.wake"
"""Key of ``session.info``: the callable the dispatcher of this process set on its session
factory (:func:`wake_on_commit`); called after a commit that added deliveries."""
_ARMED = "agenthub.notifications.armed"


def new_id(prefix: str) -> str:
    return f"{prefix}_{uuid.uuid4().hex}"


def wake_on_commit(sessions: SessionFactory, wake: Callable[[], None]) -> None:
    """Have every session of ``sessions`` that adds deliveries call ``wake`` once it commits
    (the dispatcher then sends them at once instead of at its next look)."""
    sessions.configure(info={**sessions.kw.get("info", {}), WAKE: wake})


def _wake_after_commit(session: AsyncSession) -> None:
    wake = session.info.get(WAKE)
    if wake is None or session.info.get(_ARMED):
        return
    session.info[_ARMED] = True

    def committed(sync_session: object) -> None:
        session.info.pop(_ARMED, None)
        wake()

    event.listen(session.sync_session, "after_commit", committed, once=True)


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
            fallback=not channels, status="pending", attempts=0, next_attempt_at=now,
        )
        for channel in targets
    ]
    session.add_all(rows)
    await session.flush()
    if rows:
        _wake_after_commit(session)
    return rows


# -- a user's channels ------------------------------------------------------------------------


async def get_channel(session: AsyncSession, *, org_id: str, user_id: str, channel_id: str) -> NotificationChannel:
    """The user's channel; NotFound for anyone else's, as for none."""
    channel = await session.scalar(
        select(NotificationChannel).where(
            NotificationChannel.id == channel_id, NotificationChannel.org_id == org_id,
            NotificationChannel.user_id == user_id,
        )
    )
    if channel is None:
        raise NotFound(f"notification channel {channel_id!r} not found")
    return channel


def _same_target(channel: NotificationChannel, type_: str, address: str | None, chat_id: str | None) -> bool:
    if channel.type != type_:
        return False
    if type_ == "email":
        return (channel.address or "").lower() == (address or "").lower()
    return channel.chat_id == chat_id


def _refuse_duplicate(
    channels: Sequence[NotificationChannel], type_: str, address: str | None, chat_id: str | None, *, but: str = ""
) -> None:
    for channel in channels:
        if channel.id != but and _same_target(channel, type_, address, chat_id):
            raise Conflict(f"you have this {type_} channel already ({channel.id})")


def refuse_unset(channel_type: str, field: str) -> NoReturn:
    """InvalidInput at ``field``: this server has no sender for ``channel_type`` (no
    ``SMTP_HOST`` for e-mail, no ``TELEGRAM_BOT_TOKEN`` for Telegram)."""
    problem = NOT_SET_UP[channel_type]
    raise InvalidInput(f"{field}: {problem}", field=field, problem=problem)


async def create_channel(
    session: AsyncSession, *, org_id: str, user_id: str, data: ChannelCreate, set_up: Collection[str]
) -> NotificationChannel:
    """Add a channel; InvalidInput for one of a type this server has no sender for (not in
    ``set_up``), Conflict for one the user has or a channel too many."""
    if data.type not in set_up:
        refuse_unset(data.type, "type")
    mine = await channels_of(session, org_id=org_id, user_id=user_id)
    if len(mine) >= MAX_CHANNELS_PER_USER:
        raise Conflict(f"you have {MAX_CHANNELS_PER_USER} notification channels, the most one user may have")
    address = getattr(data, "address", None)
    chat_id = getattr(data, "chat_id", None)
    _refuse_duplicate(mine, data.type, address, chat_id)
    channel = NotificationChannel(
        id=new_id("nch"), org_id=org_id, user_id=user_id, type=data.type, address=address, chat_id=chat_id,
        priority=data.priority, created_at=utcnow(),
    )
    session.add(channel)
    await session.flush()
    return channel


async def update_channel(
    session: AsyncSession, *, org_id: str, user_id: str, channel_id: str, data: ChannelUpdate, set_up: Collection[str]
) -> NotificationChannel:
    """Change its priority, or where it points (pending deliveries go to the new place); a
    new place is InvalidInput on a server with no sender for the channel's type (not in
    ``set_up``; its priority may change)."""
    channel = await get_channel(session, org_id=org_id, user_id=user_id, channel_id=channel_id)
    if data.address is not None and channel.type != "email":
        raise InvalidInput("only an e-mail channel has an address", field="address")
    if data.chat_id is not None and channel.type != "telegram":
        raise InvalidInput("only a Telegram channel has a chat_id", field="chat_id")
    if data.address is not None and "email" not in set_up:
        refuse_unset("email", "address")
    if data.chat_id is not None and "telegram" not in set_up:
        refuse_unset("telegram", "chat_id")
    address = data.address if data.address is not None else channel.address
    chat_id = str(data.chat_id) if data.chat_id is not None else channel.chat_id
    mine = await channels_of(session, org_id=org_id, user_id=user_id)
    _refuse_duplicate(mine, channel.type, address, chat_id, but=channel.id)
    channel.address, channel.chat_id = address, chat_id
    if data.priority is not None:
        channel.priority = data.priority
    await session.flush()
    return channel


async def delete_channel(session: AsyncSession, *, org_id: str, user_id: str, channel_id: str) -> None:
    """Delete it; its deliveries stay in the log (``channel_id`` null), and pending ones fail
    (a default notification then falls back to the next channel)."""
    channel = await get_channel(session, org_id=org_id, user_id=user_id, channel_id=channel_id)
    await session.delete(channel)
    await session.flush()


# -- the delivery log and notifying oneself -----------------------------------------------------


async def deliveries_of(
    session: AsyncSession, *, org_id: str, user_id: str, status: DeliveryStatus | None = None,
    notification_id: str | None = None, limit: int = 100,
) -> list[NotificationDelivery]:
    """The user's deliveries, the newest first."""
    query = select(NotificationDelivery).where(
        NotificationDelivery.org_id == org_id, NotificationDelivery.user_id == user_id
    )
    if status is not None:
        query = query.where(NotificationDelivery.status == status)
    if notification_id is not None:
        query = query.where(NotificationDelivery.notification_id == notification_id)
    query = query.order_by(NotificationDelivery.created_at.desc(), NotificationDelivery.id.desc()).limit(limit)
    return list(await session.scalars(query))


async def notify_self(
    session: AsyncSession, *, org_id: str, user_id: str, data: NotificationCreate, set_up: Collection[str]
) -> list[NotificationDelivery]:
    """Notify the caller (to try their channels): every name must be a type of one of their
    channels or one's id. Conflict without any channel, NotFound for a name that is neither,
    InvalidInput for a name of a channel whose type this server has no sender for."""
    mine = await channels_of(session, org_id=org_id, user_id=user_id)
    if not mine:
        raise Conflict("you have no notification channel: add one with POST /api/v1/notification-channels",
                       code="no_channel")
    for index, name in enumerate(data.channels or ()):
        named = _named(mine, [name])
        if not named:
            raise NotFound(f"you have no notification channel {name!r} (neither a type of yours nor an id)")
        unset = next((channel.type for channel in named if channel.type not in set_up), None)
        if unset is not None:
            refuse_unset(unset, f"channels.{index}")
    return await notify(
        session, org_id=org_id, user_id=user_id, body=data.body, subject=data.subject, channels=data.channels,
        source="api",
    )

