"""Chats and messages: the inbound record written before a message is acknowledged, the
idempotent history the saver writes, and what runners read back as context."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession

from agenthub.chats.models import Chat, ChatMessage
from agenthub.db.base import utcnow
from agenthub.db.upsert import dialect_of, insert_ignoring_duplicates


async def record_inbound(
    session: AsyncSession,
    *,
    org_id: str,
    agent_id: str,
    chat_id: str,
    message_id: str,
    content: str,
    channel: str,
    platform_user_id: str | None = None,
) -> int:
    """Store a user's message (and its chat) so it survives anything after this point.
    Returns the message's position in the chat."""
    insert = postgresql.insert if dialect_of(session) == "postgresql" else sqlite.insert
    now = utcnow()
    upsert_chat = (
        insert(Chat)
        .values(id=chat_id, agent_id=agent_id, org_id=org_id, turns=1, created_at=now, last_message_at=now)
        .on_conflict_do_update(
            index_elements=[Chat.id, Chat.agent_id],
            set_={"turns": Chat.turns + 1, "last_message_at": now},
        )
        .returning(Chat.turns)
    )
    position = 2 * (await session.execute(upsert_chat)).scalar_one()
    await insert_ignoring_duplicates(
        session,
        ChatMessage,
        [
            {
                "message_id": message_id,
                "agent_id": agent_id,
                "chat_id": chat_id,
                "position": position,
                "role": "user",
                "content": content,
                "channel": channel,
                "platform_user_id": platform_user_id,
            }
        ],
    )
    return position


async def save_history(session: AsyncSession, rows: Sequence[dict[str, Any]]) -> None:
    """Store messages from the history queue. A message already stored (same id), or a
    second answer to the same message (same reply_to), is skipped."""
    if not rows:
        return
    chats = {(row["chat_id"], row["agent_id"], row["org_id"]) for row in rows}
    await insert_ignoring_duplicates(
        session,
        Chat,
        [{"id": chat, "agent_id": agent, "org_id": org} for chat, agent, org in chats],
    )
    columns = ("message_id", "agent_id", "chat_id", "position", "role", "content", "reply_to", "channel")
    await insert_ignoring_duplicates(
        session, ChatMessage, [{column: row.get(column) for column in columns} for row in rows]
    )


async def list_messages(
    session: AsyncSession,
    *,
    org_id: str,
    agent_id: str,
    chat_id: str,
    limit: int = 100,
    after_position: int = 0,
) -> list[ChatMessage]:
    query = (
        select(ChatMessage)
        .join(Chat, (Chat.id == ChatMessage.chat_id) & (Chat.agent_id == ChatMessage.agent_id))
        .where(
            Chat.org_id == org_id,
            ChatMessage.agent_id == agent_id,
            ChatMessage.chat_id == chat_id,
            ChatMessage.position > after_position,
        )
        .order_by(ChatMessage.position, ChatMessage.seq)
        .limit(limit)
    )
    return list(await session.scalars(query))


async def chat_exists(session: AsyncSession, *, org_id: str, agent_id: str, chat_id: str) -> bool:
    found = await session.scalar(
        select(Chat.id).where(Chat.id == chat_id, Chat.agent_id == agent_id, Chat.org_id == org_id)
    )
    return found is not None


async def context_before(
    session: AsyncSession, *, agent_id: str, chat_id: str, position: int, limit: int
) -> list[ChatMessage]:
    """The last ``limit`` messages of a chat before ``position`` (the inbound message's,
    carried on the bus), oldest first: the conversation a runner rebuilds after a restart.
    By position rather than by looking the message up, so it works even before the
    gateway's transaction that stores the message is visible."""
    query = (
        select(ChatMessage)
        .where(
            ChatMessage.agent_id == agent_id,
            ChatMessage.chat_id == chat_id,
            ChatMessage.position < position,
        )
        .order_by(ChatMessage.position.desc(), ChatMessage.seq.desc())
        .limit(limit)
    )
    return list(reversed(list(await session.scalars(query))))
