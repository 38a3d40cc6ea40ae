"""Telegram users linked to platform users (:class:`TelegramLink`).

A logged-in user asks for a one-time code (``POST .../integrations/telegram/link``) and
opens the bot's deep link ``https://t.me/<bot>?start=<code>``: Telegram sends ``/start
<code>``, and from then on that Telegram user is that platform user for this agent's bot
(their organisation membership and role apply). Only the code's SHA-256 is stored; it is
good once, for :data:`CODE_TTL`. A Telegram user linked again (to another account) keeps
only the newest link."""

from __future__ import annotations

import hashlib
import secrets
import uuid
from datetime import datetime, timedelta

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from agenthub.accounts.models import User
from agenthub.caller import Caller
from agenthub.channels.telegram.models import TelegramLink
from agenthub.db.base import utcnow

CODE_TTL = timedelta(minutes=15)


def _hash(code: str) -> str:
    return hashlib.sha256(code.encode()).hexdigest()


async def new_code(
    session: AsyncSession, *, org_id: str, agent_id: str, user_id: str, ttl: timedelta = CODE_TTL
) -> tuple[str, datetime]:
    """A fresh one-time code for ``user_id`` and its expiry; the user's earlier unused codes
    for this agent stop working."""
    await session.execute(delete(TelegramLink).where(
        TelegramLink.agent_id == agent_id, TelegramLink.user_id == user_id, TelegramLink.linked_at.is_(None),
    ))
    code = secrets.token_urlsafe(24)  # deep-link parameters allow A-Z a-z 0-9 _ - (up to 64)
    expires = utcnow() + ttl
    session.add(TelegramLink(
        id=f"tgl_{uuid.uuid4().hex[:16]}", org_id=org_id, agent_id=agent_id, user_id=user_id,
        code_hash=_hash(code), code_expires_at=expires,
    ))
    await session.flush()
    return code, expires


async def redeem(
    session: AsyncSession, *, agent_id: str, code: str, telegram_user_id: str, telegram_chat_id: str
) -> User | None:
    """Link the Telegram user to whoever asked for ``code`` (for this agent, not expired,
    not used); the platform user, or None for a code that is not good."""
    link = await session.scalar(select(TelegramLink).where(
        TelegramLink.code_hash == _hash(code), TelegramLink.agent_id == agent_id,
    ))
    if link is None:
        return None
    if link.code_expires_at is None or link.code_expires_at < utcnow():
        await session.delete(link)
        await session.flush()
        return None
    await session.execute(delete(TelegramLink).where(
        TelegramLink.agent_id == agent_id, TelegramLink.telegram_user_id == telegram_user_id,
    ))
    link.telegram_user_id = telegram_user_id
    link.telegram_chat_id = telegram_chat_id
    link.linked_at = utcnow()
    link.code_hash = None
    link.code_expires_at = None
    await session.flush()
    return await session.get(User, link.user_id)


async def linked_caller(session: AsyncSession, *, agent_id: str, telegram_user_id: str) -> Caller | None:
    """The platform user the Telegram user is linked to for this agent's bot, as a caller;
    None when they are not linked."""
    row = (await session.execute(
        select(User.id, User.org_id, User.role)
        .join(TelegramLink, TelegramLink.user_id == User.id)
        .where(TelegramLink.agent_id == agent_id, TelegramLink.telegram_user_id == telegram_user_id)
    )).first()
    if row is None:
        return None
    return Caller(org_id=row.org_id, user_id=row.id, role=row.role)
