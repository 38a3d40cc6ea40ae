"""Chats and messages: the inbound record written before a message is acknowledged, the
idempotent history the saver writes, and what runners read back as context."""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from functools import cache
from typing import Any, cast

from sqlalchemy import ColumnElement, Insert, Table, func, or_, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession

from agenthub.bus import Bus, keys
from agenthub.chats import inbound_statements
from agenthub.chats.models import Chat, ChatMessage
from agenthub.db.base import utcnow
from agenthub.db.upsert import dialect_of, insert_ignoring_duplicates
from agenthub.errors import NotFound

PUSH_PREFIX = "push-"
"""Before the id of a message no client sent: one the server pushed to an agent as if its
user had written (a scenario bot's delayed move or cron, ``Gateway.push``). Its answer goes
to the listeners watching its chat (``channels.fanout``); it is not put on the agent's input
again at a restart (its envelope's server fields were never stored). It is stored (with
empty content) to keep the chat's order, and left out of what users read back
(:data:`SHOWN`): the history, the replay of a reconnecting client, a user's export; its
answer is shown."""

SHOWN = or_(ChatMessage.role != "user", ~ChatMessage.message_id.startswith(PUSH_PREFIX, autoescape=True))
"""The messages users see: all but the pushed ones (see :data:`PUSH_PREFIX`)."""


@dataclass(frozen=True, slots=True)
class InboundRecord:
    """A user's message as the gateway stores it before acknowledging it."""

    org_id: str
    agent_id: str
    chat_id: str
    message_id: str
    content: str
    channel: str
    platform_user_id: str | None = None
    user_key: str | None = None
    """Whose long-term memory the message belongs to (see ``ChatMessage.user_key``)."""
    attachments: tuple[str, ...] = ()
    """The file ids the user sent with it (checked to be the organisation's files), in order."""


@cache
def _count_turns(dialect: str) -> Insert:
    """Create chats, or add the new messages to their turn count; returns the count. One
    statement object per dialect, so SQLAlchemy compiles it once."""
    table = cast(Table, Chat.__table__)
    insert = (postgresql.insert if dialect == "postgresql" else sqlite.insert)(table)
    return insert.on_conflict_do_update(
        index_elements=[table.c.id, table.c.agent_id],
        set_={"turns": table.c.turns + insert.excluded.turns, "last_message_at": insert.excluded.last_message_at},
    ).returning(table.c.id, table.c.agent_id, table.c.turns)


async def record_inbound(
    session: AsyncSession | AsyncConnection, messages: Sequence[InboundRecord]
) -> list[int]:
    """Store users' messages (and their chats) so they survive anything after this point:
    one statement for the chats, one for the messages, however many there are. Returns
    each message's position in its chat; messages of one chat get consecutive turns in the
    order given. Takes a session or, cheaper on this hot path, a Core connection (on
    PostgreSQL, cheaper still: :func:`record_inbound_on_driver`)."""
    if not messages:
        return []
    now = utcnow()
    chats = _chats_of(messages)
    after = {
        (chat, agent): turns
        for chat, agent, turns in (await session.execute(_count_turns(dialect_of(session)), [
            {"id": chat, "agent_id": agent, "org_id": org, "turns": count, "created_at": now, "last_message_at": now}
            for (chat, agent), (org, count) in chats.items()
        ])).all()
    }
    positions = _positions(messages, chats, after)
    await insert_ignoring_duplicates(session, ChatMessage, [
        {"message_id": m.message_id, "agent_id": m.agent_id, "chat_id": m.chat_id, "position": position,
         "role": "user", "content": m.content, "channel": m.channel, "platform_user_id": m.platform_user_id,
         "user_key": m.user_key, "attachments": list(m.attachments) or None}
        for m, position in zip(messages, positions, strict=True)
    ])
    return positions


async def record_inbound_on_driver(connection: AsyncConnection, messages: Sequence[InboundRecord]) -> list[int]:
    """PostgreSQL: :func:`record_inbound` with its two statements run by asyncpg itself
    (:mod:`agenthub.chats.inbound_statements`), in the transaction of
    :func:`agenthub.db.driver_sql.driver_transaction` open on ``connection``."""
    if not messages:
        return []
    count_turns, add_messages = inbound_statements.statements(connection.dialect)
    now = utcnow()
    chats = _chats_of(messages)
    rows = await count_turns.fetch(connection, {
        "now": now, "chat_ids": [chat for chat, _ in chats], "agent_ids": [agent for _, agent in chats],
        "org_ids": [org for org, _ in chats.values()], "turns": [count for _, count in chats.values()],
    })
    positions = _positions(messages, chats, {(row["id"], row["agent_id"]): row["turns"] for row in rows})
    await add_messages.fetch(connection, {
        "role": "user", "stopped": False, "now": now,
        "message_ids": [m.message_id for m in messages], "agent_ids": [m.agent_id for m in messages],
        "chat_ids": [m.chat_id for m in messages], "positions": positions,
        "contents": [m.content for m in messages], "channels": [m.channel for m in messages],
        "platform_user_ids": [m.platform_user_id for m in messages], "user_keys": [m.user_key for m in messages],
        "attachments": [json.dumps(list(m.attachments)) if m.attachments else None for m in messages],
    })
    return positions


def _chats_of(messages: Sequence[InboundRecord]) -> dict[tuple[str, str], tuple[str, int]]:
    """The chats of ``messages`` in key order (gateways writing groups at the same time lock
    the chats' rows in the same order, so they never deadlock), each with its organisation
    and how many of the messages it gets."""
    per_chat = Counter((m.chat_id, m.agent_id) for m in messages)
    org_of = {(m.chat_id, m.agent_id): m.org_id for m in messages}
    return {key: (org_of[key], count) for key, count in sorted(per_chat.items())}


def _positions(
    messages: Sequence[InboundRecord], chats: dict[tuple[str, str], tuple[str, int]],
    turns_after: dict[tuple[str, str], int],
) -> list[int]:
    """Each message's position: its chat's turn count after the group was counted in, of
    which this group's messages are the last turns, in the order given."""
    next_turn = {key: turns_after[key] - count + 1 for key, (_, count) in chats.items()}
    positions: list[int] = []
    for m in messages:
        key = (m.chat_id, m.agent_id)
        positions.append(2 * next_turn[key])
        next_turn[key] += 1
    return positions


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
    columns = (
        "message_id", "agent_id", "chat_id", "position", "role", "content", "reply_to", "channel", "tool_calls",
        "citations", "widget", "attachments",
    )
    await insert_ignoring_duplicates(
        session,
        ChatMessage,
        [{**{column: row.get(column) for column in columns}, "stopped": bool(row.get("stopped"))} for row in rows],
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
    """A chat's messages after ``after_position`` as users read them (without pushed ones), in order."""
    query = (
        select(ChatMessage)
        .join(Chat, (Chat.id == ChatMessage.chat_id) & (Chat.agent_id == ChatMessage.agent_id))
        .where(
            Chat.org_id == org_id,
            ChatMessage.agent_id == agent_id,
            ChatMessage.chat_id == chat_id,
            ChatMessage.position > after_position,
            SHOWN,
        )
        .order_by(ChatMessage.position, ChatMessage.seq)
        .limit(limit)
    )
    return list(await session.scalars(query))


async def unanswered_since(session: AsyncSession, since: datetime, *, limit: int) -> list[ChatMessage]:
    """Users' messages stored at ``since`` or later that nothing answered and no start took
    up yet: each after the last answer of its chat (a message that failed and was followed
    by answered ones is not among them). In the order of their chats, oldest first."""
    answered = ChatMessage.__table__.alias("answered")
    last_answer = (
        select(func.coalesce(func.max(answered.c.position), 0))
        .where(
            answered.c.agent_id == ChatMessage.agent_id,
            answered.c.chat_id == ChatMessage.chat_id,
            answered.c.role == "assistant",
        )
        .scalar_subquery()
    )
    query = (
        select(ChatMessage)
        .where(
            ChatMessage.role == "user", ChatMessage.created_at >= since, ChatMessage.recovered_at.is_(None),
            ChatMessage.position > last_answer,
        )
        .order_by(ChatMessage.agent_id, ChatMessage.chat_id, ChatMessage.position)
        .limit(limit)
    )
    return list(await session.scalars(query))


async def mark_recovered(session: AsyncSession, message_ids: Sequence[str]) -> set[str]:
    """Record that a start took these messages up; returns those this call marked (another
    start may have marked some first): only those are to be taken up."""
    if not message_ids:
        return set()
    statement = (
        update(ChatMessage)
        .where(ChatMessage.message_id.in_(list(message_ids)), ChatMessage.recovered_at.is_(None))
        .values(recovered_at=utcnow())
        .returning(ChatMessage.message_id)
    )
    return set((await session.execute(statement)).scalars().all())


async def recorded(session: AsyncSession, *, message_id: str) -> bool:
    """Whether the message ``message_id`` is stored (it is on its agent's input then: the
    two are written as one unit)."""
    return await session.scalar(select(ChatMessage.seq).where(ChatMessage.message_id == message_id)) is not None


async def chat_exists(session: AsyncSession, *, org_id: str, agent_id: str, chat_id: str) -> bool:
    found = await session.scalar(
        select(Chat.id).where(Chat.id == chat_id, Chat.agent_id == agent_id, Chat.org_id == org_id)
    )
    return found is not None


async def has_other_senders(session: AsyncSession, *, agent_id: str, chat_id: str, platform_user_id: str) -> bool:
    """True when someone other than ``platform_user_id`` wrote in this chat: it is not theirs
    to go on with or to read back (a public agent's chats, between visitors)."""
    found = await session.scalar(
        select(ChatMessage.seq).where(
            ChatMessage.agent_id == agent_id, ChatMessage.chat_id == chat_id, ChatMessage.role == "user",
            (ChatMessage.platform_user_id != platform_user_id) | ChatMessage.platform_user_id.is_(None),
        ).limit(1)
    )
    return found is not None


async def context_before(
    session: AsyncSession, *, agent_id: str, chat_id: str, position: int, limit: int, after: int = -1
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
            ChatMessage.position > after,
        )
        .order_by(ChatMessage.position.desc(), ChatMessage.seq.desc())
        .limit(limit)
    )
    return list(reversed(list(await session.scalars(query))))


async def position_of(
    session: AsyncSession, *, org_id: str, agent_id: str, chat_id: str, message_id: str
) -> int | None:
    """Where a message stands in its chat (user or answer), None when the chat of this
    agent and organisation has no such message (yet: answers are stored a moment after
    they are delivered)."""
    return await session.scalar(
        select(ChatMessage.position)
        .join(Chat, (Chat.id == ChatMessage.chat_id) & (Chat.agent_id == ChatMessage.agent_id))
        .where(
            Chat.org_id == org_id,
            ChatMessage.agent_id == agent_id,
            ChatMessage.chat_id == chat_id,
            ChatMessage.message_id == message_id,
        )
    )


async def messages_from(
    session: AsyncSession, *, org_id: str, agent_id: str, chat_id: str, position: int, limit: int
) -> list[ChatMessage]:
    """The messages of a chat from ``position`` on (that one included), in order: what a
    client that reconnects after it may have missed."""
    return await list_messages(
        session, org_id=org_id, agent_id=agent_id, chat_id=chat_id, limit=limit, after_position=position - 1
    )


async def messages_of_user(session: AsyncSession, *, org_id: str, platform_user_id: str) -> list[ChatMessage]:
    """What one user said in the organisation's chats (their messages, by
    ``platform_user_id``) and the answers to it, chat by chat, each chat in order. An
    answer is found by its position (right after the message it answers), so a scenario
    bot's messages sent before the answer (stored without ``reply_to``) are among them."""
    asked = ChatMessage.__table__.alias("asked")
    theirs = (
        select(asked.c.seq)
        .where(
            asked.c.agent_id == ChatMessage.agent_id, asked.c.chat_id == ChatMessage.chat_id,
            asked.c.position == ChatMessage.position - 1, asked.c.role == "user",
            asked.c.platform_user_id == platform_user_id,
        )
        .exists()
    )
    query = (
        select(ChatMessage)
        .join(Chat, (Chat.id == ChatMessage.chat_id) & (Chat.agent_id == ChatMessage.agent_id))
        .where(
            Chat.org_id == org_id,
            or_(
                (ChatMessage.platform_user_id == platform_user_id) & (ChatMessage.role == "user"),
                (ChatMessage.role == "assistant") & theirs,
            ),
            SHOWN,
        )
        .order_by(ChatMessage.agent_id, ChatMessage.chat_id, ChatMessage.position, ChatMessage.seq)
    )
    return list(await session.scalars(query))


def _written_in_by(sender: str) -> ColumnElement[bool]:
    """The chat (the outer query's ``Chat``) has a user message from ``sender``."""
    mine = ChatMessage.__table__.alias("mine")
    return (
        select(mine.c.seq)
        .where(
            mine.c.agent_id == Chat.agent_id, mine.c.chat_id == Chat.id, mine.c.role == "user",
            mine.c.platform_user_id == sender,
        )
        .correlate(Chat)
        .exists()
    )


TITLE_LENGTH = 120
"""Characters of a chat's first message that the chat list shows as its title."""


@dataclass(frozen=True, slots=True)
class ChatSummary:
    """A chat as the chat list shows it."""

    chat_id: str
    title: str
    turns: int
    created_at: datetime
    last_message_at: datetime


async def list_chats(
    session: AsyncSession,
    *,
    org_id: str,
    agent_id: str,
    sender: str | None = None,
    limit: int = 50,
    offset: int = 0,
) -> tuple[list[ChatSummary], int]:
    """An agent's chats, the most recently active first, each titled by the start of its
    first message users see (``""`` when none: a chat only the server wrote in); and how
    many it has in all. With ``sender`` (a ``platform_user_id``: a user's or an API key's
    id), only the chats that sender wrote in."""
    first = ChatMessage.__table__.alias("first_message")
    title = (
        select(func.substr(first.c.content, 1, TITLE_LENGTH))
        .where(
            first.c.agent_id == Chat.agent_id, first.c.chat_id == Chat.id, first.c.role == "user",
            ~first.c.message_id.startswith(PUSH_PREFIX, autoescape=True),
        )
        .order_by(first.c.position, first.c.seq)
        .limit(1)
        .correlate(Chat)
        .scalar_subquery()
    )
    scope: tuple[ColumnElement[bool], ...] = (Chat.org_id == org_id, Chat.agent_id == agent_id)
    if sender is not None:
        scope = (*scope, _written_in_by(sender))
    query = (
        select(Chat.id, title, Chat.turns, Chat.created_at, Chat.last_message_at)
        .where(*scope)
        .order_by(Chat.last_message_at.desc(), Chat.id)
        .limit(limit)
        .offset(offset)
    )
    rows = (await session.execute(query)).all()
    total = await session.scalar(select(func.count()).select_from(Chat).where(*scope)) or 0
    return [
        ChatSummary(chat_id=chat_id, title=text or "", turns=turns, created_at=created, last_message_at=last)
        for chat_id, text, turns, created, last in rows
    ], total


STOP_REQUEST_TTL = 3600.0
"""Seconds a request to stop an answer is kept: a message still waiting on the agent's input
(or given again to a new host after a crash) is stopped when its answer begins."""


async def request_stop(
    session: AsyncSession, bus: Bus, *, org_id: str, agent_id: str, chat_id: str, message_id: str
) -> bool:
    """Ask the host writing the answer to a user's message to stop and deliver what it has so
    far. Returns False when the message is answered already (nothing to stop); raises
    NotFound when the chat has no such message from a user."""
    row = await session.scalar(
        select(ChatMessage.message_id)
        .join(Chat, (Chat.id == ChatMessage.chat_id) & (Chat.agent_id == ChatMessage.agent_id))
        .where(
            Chat.org_id == org_id, ChatMessage.agent_id == agent_id, ChatMessage.chat_id == chat_id,
            ChatMessage.message_id == message_id, ChatMessage.role == "user",
        )
    )
    if row is None:
        raise NotFound(f"no message {message_id!r} from a user in chat {chat_id!r}")
    if await bus.get(keys.agent_reply(agent_id, message_id)) is not None:
        return False
    await bus.set(keys.turn_stop(agent_id, message_id), {"stop": True}, ttl=STOP_REQUEST_TTL)
    return True
