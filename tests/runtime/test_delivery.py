"""Delivery at the turn level: at-least-once on the bus, answered once as the user sees it,
and in order within a chat. Hosts built by ``build_host`` on the in-process bus and on
Redis, with a real SQLite database."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import pytest

from agenthub.bus import Bus, Subscription, keys
from agenthub.chats import service as chats_service
from agenthub.db.engine import SessionFactory
from agenthub.engines.registry import build_engines
from agenthub.runtime.assembly import build_host
from agenthub.runtime.host import AgentHost, new_host_id
from agenthub.workers.history import HistorySaverWorker
from tests.runtime.helpers import DEADLINE, create_agent_row, eventually, migrated_sessions, said
from tests.support.server import make_settings

AGENT = "courier"
PROBE = "probe"
"""A consumer group of the test's own on the history and usage queues: it sees every entry
the turns add, independent of any worker."""


@dataclass
class World:
    bus: Bus
    sessions: SessionFactory
    settings: Any
    hosts: list[AgentHost]

    async def new_host(self) -> AgentHost:
        host = build_host(
            host_id=new_host_id("local"), role="local", bus=self.bus,
            session_factory=self.sessions, settings=self.settings,
            engines=build_engines(self.settings, self.sessions),
        )
        await host.start()
        self.hosts.append(host)
        return host


@pytest.fixture
async def world(bus: Bus, sqlite_url: str) -> AsyncIterator[World]:
    engine, sessions = await migrated_sessions(sqlite_url)
    await create_agent_row(sessions, AGENT)
    await bus.ensure_group(keys.agent_input(AGENT), keys.INPUT_GROUP)
    for queue in (keys.HISTORY_QUEUE, keys.TOKEN_USAGE_QUEUE):
        await bus.ensure_group(queue, PROBE)
    state = World(bus=bus, sessions=sessions, settings=make_settings(database_url=sqlite_url), hosts=[])
    try:
        yield state
    finally:
        for host in state.hosts:
            await host.close()
        await engine.dispose()


def inbound(text: str, *, chat_id: str, message_id: str | None = None) -> dict[str, Any]:
    """The gateway's inbound envelope."""
    return {
        "message_id": message_id or uuid.uuid4().hex,
        "agent_id": AGENT,
        "chat_id": chat_id,
        "text": text,
        "platform_user_id": "user-1",
        "user_data": {},
        "channel": "web",
    }


async def answer_to(output: Subscription, message_id: str, *, timeout: float = DEADLINE) -> list[dict]:
    """Every output event for ``message_id`` up to and including its message (or error)."""
    seen: list[dict] = []

    async def probe() -> bool:
        event = await output.get(timeout=0.2)
        if event is not None and event.get("reply_to") == message_id:
            seen.append(event)
        return bool(seen) and seen[-1]["type"] in ("message", "error")

    await eventually(probe, timeout=timeout, interval=0, what=f"the answer to {message_id}")
    return seen


async def queued(bus: Bus, queue: str) -> list[dict]:
    """What was added to a queue since the last look."""
    return [entry.payload for entry in await bus.read({queue: ">"}, PROBE, "test", count=1000)]


async def no_pending_input(bus: Bus) -> bool:
    return await bus.pending_count(keys.agent_input(AGENT), keys.INPUT_GROUP) == 0


async def test_message_left_unanswered_by_a_crashed_host_is_answered_by_the_next(world: World) -> None:
    bus = world.bus
    message = inbound("are you there?", chat_id="c1")
    await bus.add(keys.agent_input(AGENT), message)
    # A host read the message and died before answering: it stays pending, unacknowledged.
    taken = await bus.read({keys.agent_input(AGENT): ">"}, keys.INPUT_GROUP, keys.INPUT_CONSUMER)
    assert [entry.payload["message_id"] for entry in taken] == [message["message_id"]]
    assert await bus.pending_count(keys.agent_input(AGENT), keys.INPUT_GROUP) == 1

    output = await bus.subscribe(keys.agent_output(AGENT))
    try:
        host = await world.new_host()
        await host.host(AGENT)
        events = await answer_to(output, message["message_id"])
    finally:
        await output.close()

    final = events[-1]
    assert final["type"] == "message"
    assert final["response"] == said("are you there?", 1)
    assert final["chat_id"] == "c1"
    assert any(event["type"] == "chunk" for event in events), "the answer was streamed"
    # The crashed host may have streamed part of it: the client is told it starts over first.
    assert events[0]["type"] == "status" and "starts over" in events[0]["message"], events
    await eventually(lambda: no_pending_input(bus), what="the message to be acknowledged")
    history = await queued(bus, keys.HISTORY_QUEUE)
    assert [(h["reply_to"], h["content"]) for h in history] == [(message["message_id"], final["response"])]
    status = await bus.get(keys.agent_status(AGENT))
    assert status is not None and status["status"] == "running" and status["host_id"] == host.host_id


async def test_redelivered_message_that_was_answered_gets_the_same_reply_once(world: World) -> None:
    bus = world.bus
    message = inbound("count me once", chat_id="c1")
    output = await bus.subscribe(keys.agent_output(AGENT))
    try:
        first_host = await world.new_host()
        await first_host.host(AGENT)
        await bus.add(keys.agent_input(AGENT), message)
        first = await answer_to(output, message["message_id"])
        reply = first[-1]
        assert reply["type"] == "message" and reply["response"] == said("count me once", 1)
        await eventually(lambda: no_pending_input(bus), what="the first delivery to be acknowledged")
        assert len(await queued(bus, keys.HISTORY_QUEUE)) == 1
        assert len(await queued(bus, keys.TOKEN_USAGE_QUEUE)) == 1

        # The same message is delivered again (at-least-once) and its host dies before
        # acknowledging it; the next host finds it pending.
        await first_host.close()
        await bus.add(keys.agent_input(AGENT), message)
        await bus.read({keys.agent_input(AGENT): ">"}, keys.INPUT_GROUP, keys.INPUT_CONSUMER)
        second_host = await world.new_host()
        await second_host.host(AGENT)
        again = await answer_to(output, message["message_id"])
    finally:
        await output.close()

    assert [event["type"] for event in again] == ["message"], "no new turn: nothing streamed"
    assert again[-1] == reply, "the same reply, with the same message id"
    await eventually(lambda: no_pending_input(bus), what="the redelivery to be acknowledged")
    assert await queued(bus, keys.HISTORY_QUEUE) == [], "no second history entry"
    assert await queued(bus, keys.TOKEN_USAGE_QUEUE) == [], "the model was not called again"

    # What the history saver stores: one answer to the message.
    saver = HistorySaverWorker(bus, world.sessions)
    await saver.setup()
    while await saver.run_once():
        pass
    async with world.sessions() as session:
        rows = await chats_service.list_messages(session, org_id="default", agent_id=AGENT, chat_id="c1")
    assert [(row.role, row.message_id, row.reply_to) for row in rows] == [
        ("assistant", reply["message_id"], message["message_id"])
    ]


async def test_messages_of_one_chat_are_answered_in_order(world: World) -> None:
    bus = world.bus
    output = await bus.subscribe(keys.agent_output(AGENT))
    try:
        host = await world.new_host()
        await host.host(AGENT)
        sent: dict[str, list[dict]] = {"a": [], "b": []}
        for n in range(5):
            for chat_id in ("a", "b") if n < 2 else ("a",):
                message = inbound(f"{chat_id}{n}", chat_id=chat_id)
                sent[chat_id].append(message)
                await bus.add(keys.agent_input(AGENT), message)

        answers: list[dict] = []

        statuses: list[dict] = []

        async def all_answered() -> bool:
            event = await output.get(timeout=0.2)
            if event is not None and event["type"] in ("message", "error"):
                answers.append(event)
            if event is not None and event["type"] == "status":
                statuses.append(event)
            return len(answers) == 7

        await eventually(all_answered, interval=0, what="seven answers")
    finally:
        await output.close()

    for chat_id, messages in sent.items():
        in_chat = [a for a in answers if a["chat_id"] == chat_id]
        assert [a["reply_to"] for a in in_chat] == [m["message_id"] for m in messages]
        assert [a["response"] for a in in_chat] == [said(m["text"], n) for n, m in enumerate(messages, 1)]
    assert statuses == [], "a message answered for the first time does not start over"
    await eventually(lambda: no_pending_input(bus), what="every message to be acknowledged")
