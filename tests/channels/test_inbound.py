"""The inbound writer: messages are stored and put on their agents' input streams in
groups. On SQLite and PostgreSQL, with the in-process bus and Redis."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import pytest
from sqlalchemy import event, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncEngine

from agenthub.bus import Bus, keys, open_bus
from agenthub.channels.inbound import InboundMessage, InboundWriter
from agenthub.chats.models import Chat, ChatMessage
from agenthub.chats.service import InboundRecord
from agenthub.db.engine import SessionFactory
from agenthub.errors import InvalidInput, is_unavailable
from tests.runtime.helpers import create_agent_row, migrated_sessions
from tests.support.server import free_port

AGENTS = ("alpha", "beta")


@dataclass
class Db:
    engine: AsyncEngine
    sessions: SessionFactory
    commits: list[int]

    async def messages(self) -> list[tuple[str, str, int, str]]:
        async with self.sessions() as session:
            rows = await session.execute(
                select(ChatMessage.agent_id, ChatMessage.chat_id, ChatMessage.position, ChatMessage.content)
                .order_by(ChatMessage.agent_id, ChatMessage.chat_id, ChatMessage.position)
            )
            return [tuple(row) for row in rows]

    async def turns(self) -> dict[tuple[str, str], int]:
        async with self.sessions() as session:
            rows = await session.execute(select(Chat.agent_id, Chat.id, Chat.turns))
            return {(agent, chat): turns for agent, chat, turns in rows}


@pytest.fixture
async def db(database_url: str) -> AsyncIterator[Db]:
    engine, sessions = await migrated_sessions(database_url)
    for agent in AGENTS:
        await create_agent_row(sessions, agent)
    commits: list[int] = []
    if engine.dialect.name == "postgresql":  # the writer's transactions are asyncpg's own: counted as it sends them
        await engine.dispose()  # connections opened from now on are watched

        def watch(dbapi_connection: Any, _record: Any) -> None:
            dbapi_connection.driver_connection.add_query_logger(
                lambda logged: commits.append(1) if logged.query.strip().upper().startswith("COMMIT") else None)

        event.listen(engine.sync_engine, "connect", watch)
    else:
        event.listen(engine.sync_engine, "commit", lambda _connection: commits.append(1))
    yield Db(engine, sessions, commits)
    await engine.dispose()


def inbound(agent: str, chat: str, content: str) -> InboundMessage:
    record = InboundRecord(
        org_id="default", agent_id=agent, chat_id=chat, message_id=uuid.uuid4().hex,
        content=content, channel="web", platform_user_id="u1",
    )
    return InboundMessage(record, user_data={"name": "Ann"}, user_id="usr_ann")


def nested(depth: int) -> dict:
    value: dict = {}
    for _ in range(depth):
        value = {"x": value}
    return value


async def queued(bus: Bus, agent: str) -> list[dict]:
    stream = keys.agent_input(agent)
    await bus.ensure_group(stream, keys.INPUT_GROUP)
    entries = await bus.read({stream: ">"}, keys.INPUT_GROUP, keys.INPUT_CONSUMER, count=1000)
    return [entry.payload for entry in entries]


async def test_messages_sent_together_are_stored_in_one_transaction_in_order(db: Db, bus: Bus) -> None:
    writer = InboundWriter(bus=bus, engine=db.engine)
    messages = [inbound(AGENTS[i % 2], f"chat-{i % 3}", f"m{i}") for i in range(30)]

    positions = await asyncio.gather(*(writer.write(m) for m in messages))

    # All thirty were waiting when the writer began: one transaction for them all.
    assert len(db.commits) == 1
    # Within a chat, turns follow the order the messages were given in.
    expected: dict[tuple[str, str], list[int]] = {}
    for m, position in zip(messages, positions, strict=True):
        expected.setdefault((m.record.agent_id, m.record.chat_id), []).append(position)
    for chat_positions in expected.values():
        assert chat_positions == list(range(2, 2 * len(chat_positions) + 1, 2))
    stored = await db.messages()
    assert len(stored) == 30
    by_content = {content: (agent, chat, position) for agent, chat, position, content in stored}
    for m, position in zip(messages, positions, strict=True):
        assert by_content[m.record.content] == (m.record.agent_id, m.record.chat_id, position)
    assert await db.turns() == {key: len(value) for key, value in expected.items()}

    for agent in AGENTS:
        payloads = await queued(bus, agent)
        mine = [m for m in messages if m.record.agent_id == agent]
        assert [p["text"] for p in payloads] == [m.record.content for m in mine]
        assert payloads[0] | {"message_id": None, "position": None} == {
            "message_id": None, "agent_id": agent, "chat_id": mine[0].record.chat_id, "text": mine[0].record.content,
            "platform_user_id": "u1", "user_data": {"name": "Ann"}, "channel": "web", "position": None,
            "org_id": "default", "user_id": "usr_ann", "api_key_id": None,  # who pays for the turn
        }
        assert [p["position"] for p in payloads] == [
            positions[messages.index(m)] for m in mine
        ]


async def test_a_chat_goes_on_across_groups(db: Db, bus: Bus) -> None:
    writer = InboundWriter(bus=bus, engine=db.engine)
    assert await writer.write(inbound("alpha", "c", "one")) == 2
    assert await asyncio.gather(*(writer.write(inbound("alpha", "c", t)) for t in ("two", "three"))) == [4, 6]
    assert await writer.write(inbound("alpha", "c", "four")) == 8
    assert [(position, content) for _a, _c, position, content in await db.messages()] == [
        (2, "one"), (4, "two"), (6, "three"), (8, "four"),
    ]


async def test_a_message_written_again_is_on_its_stream_once(db: Db, bus: Bus) -> None:
    """What a retried write does (its first attempt landed, the answer was lost): the
    message is not put on the agent's input a second time, so it is not answered twice."""
    writer = InboundWriter(bus=bus, engine=db.engine)
    message = inbound("alpha", "c", "once")
    await writer.write(message)
    await writer.write(message)
    assert [p["message_id"] for p in await queued(bus, "alpha")] == [message.record.message_id]
    assert [content for *_rest, content in await db.messages()] == ["once"]


async def test_a_message_for_a_missing_agent_fails_alone(db: Db, bus: Bus) -> None:
    writer = InboundWriter(bus=bus, engine=db.engine)
    good = [inbound("alpha", "c1", f"ok {i}") for i in range(5)]
    bad = inbound("deleted-agent", "c1", "lost")

    results = await asyncio.gather(
        writer.write(good[0]), *(writer.write(m) for m in [*good[1:3], bad, *good[3:]]), return_exceptions=True
    )

    assert isinstance(results[3], IntegrityError)
    assert [r for i, r in enumerate(results) if i != 3] == [2, 4, 6, 8, 10]
    assert [content for *_rest, content in await db.messages()] == [f"ok {i}" for i in range(5)]
    assert [p["text"] for p in await queued(bus, "alpha")] == [f"ok {i}" for i in range(5)]
    assert await queued(bus, "deleted-agent") == []


@pytest.mark.parametrize(
    "user_data",
    [{"k": "\ud800"}, {"deep": nested(300)}],
    ids=["lone surrogate", "nested 300 deep"],
)
async def test_a_message_that_cannot_be_encoded_fails_alone(db: Db, bus: Bus, user_data: dict) -> None:
    """Channels other than HTTP may pass on what a client sent; one such message must not
    fail the others written with it."""
    writer = InboundWriter(bus=bus, engine=db.engine)
    good = [inbound("alpha", f"c{i}", f"ok {i}") for i in range(6)]
    bad = InboundMessage(inbound("beta", "c9", "poison").record, user_data=user_data)

    results = await asyncio.gather(
        writer.write(good[0]), *(writer.write(m) for m in [*good[1:3], bad, *good[3:]]), return_exceptions=True
    )

    assert isinstance(results[3], InvalidInput), results[3]
    assert "cannot be stored" in results[3].message
    assert [r for i, r in enumerate(results) if i != 3] == [2] * 6
    assert sorted(content for *_rest, content in await db.messages()) == [f"ok {i}" for i in range(6)]
    assert sorted(p["text"] for p in await queued(bus, "alpha")) == [f"ok {i}" for i in range(6)]
    assert await queued(bus, "beta") == []


async def test_when_the_bus_is_down_nothing_is_stored(db: Db) -> None:
    unreachable = open_bus(f"redis://127.0.0.1:{free_port()}/0")
    writer = InboundWriter(bus=unreachable, engine=db.engine)
    try:
        results = await asyncio.gather(
            *(writer.write(inbound("alpha", f"c{i}", "hello")) for i in range(4)), return_exceptions=True
        )
    finally:
        await unreachable.close()

    assert all(is_unavailable(r) for r in results), results
    assert await db.messages() == []
    assert await db.turns() == {}


async def test_a_sender_that_stops_waiting_does_not_lose_its_message(db: Db) -> None:
    bus = open_bus(None)
    writer = InboundWriter(bus=bus, engine=db.engine)
    first = asyncio.create_task(writer.write(inbound("alpha", "c", "kept")))
    second = asyncio.create_task(writer.write(inbound("alpha", "c", "also kept")))
    await asyncio.sleep(0)
    second.cancel()

    assert await first == 2
    await writer.close()  # lets what is being written finish
    assert [content for *_rest, content in await db.messages()] == ["kept", "also kept"]
    assert [p["text"] for p in await queued(bus, "alpha")] == ["kept", "also kept"]


async def test_closing_tells_every_sender_and_keeps_only_what_was_acknowledged(db: Db, bus: Bus) -> None:
    writer = InboundWriter(bus=bus, engine=db.engine)
    first = asyncio.create_task(writer.write(inbound("alpha", "c", "m0")))
    await asyncio.sleep(0)  # the first group is being written; the rest wait for the next
    waiting = [asyncio.create_task(writer.write(inbound("alpha", "c", f"m{i}"))) for i in range(1, 4)]
    await asyncio.sleep(0)
    await writer.close(grace=0)

    results = await asyncio.wait_for(asyncio.gather(first, *waiting, return_exceptions=True), timeout=10)
    accepted = [f"m{i}" for i, result in enumerate(results) if isinstance(result, int)]
    assert all(isinstance(result, int | asyncio.CancelledError) for result in results), results
    assert len(accepted) < 4, "closing stopped the writer"
    assert [content for *_rest, content in await db.messages()] == accepted, "stored = acknowledged"
    assert [p["text"] for p in await queued(bus, "alpha")] == accepted
