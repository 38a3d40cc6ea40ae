"""The durable outbound stream as a gateway reads it: an answer whose live (pub/sub) copy
was lost still reaches the client waiting for it, and what a reconnecting client missed is
found even before the history has it. On both bus backends, SQLite and PostgreSQL."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import pytest

from agenthub.bus import Bus, keys
from agenthub.channels.fanout import Listener, OutputRouter
from agenthub.channels.outbox import OutboundFeed, RecentOutbound
from agenthub.channels.replay import UnknownMessage, missed
from agenthub.chats import service as chats_service
from agenthub.chats.service import InboundRecord
from agenthub.db.engine import SessionFactory, session_scope
from tests.runtime.helpers import create_agent_row, migrated_sessions

AGENT = "outboxed"
CHAT = "c1"


@dataclass
class Setup:
    bus: Bus
    sessions: SessionFactory
    router: OutputRouter
    feed: OutboundFeed
    listener: Listener

    async def ask(self, content: str) -> str:
        """Store a user message of the chat, as the gateway does; returns its id."""
        message_id = uuid.uuid4().hex
        async with session_scope(self.sessions) as session:
            await chats_service.record_inbound(session, [InboundRecord(
                org_id="default", agent_id=AGENT, chat_id=CHAT, message_id=message_id,
                content=content, channel="web",
            )])
        return message_id

    async def answer_durably(self, reply_to: str, text: str, *, kind: str = "message") -> dict[str, Any]:
        """What a host adds to the durable stream for an answer; nothing is published live
        and nothing reaches the history."""
        event = {
            "type": kind, "message_id": uuid.uuid4().hex, "reply_to": reply_to, "chat_id": CHAT,
            "response": text, "channel": "web", "agent_id": AGENT,
        }
        await self.bus.add(keys.OUTBOUND_QUEUE, event)
        assert await self.feed.run_once() == 1
        return event

    async def missed(self, after: str):  # type: ignore[no-untyped-def]
        return await missed(
            sessions=self.sessions, recent=self.feed.recent, listener=self.listener,
            org_id="default", agent_id=AGENT, chat_id=CHAT, after=after,
        )


@pytest.fixture
async def setup(bus: Bus, database_url: str) -> AsyncIterator[Setup]:
    engine, sessions = await migrated_sessions(database_url)
    await create_agent_row(sessions, AGENT)
    router = OutputRouter(bus)
    feed = OutboundFeed(bus=bus, router=router, recent=RecentOutbound(), gateway_id=uuid.uuid4().hex[:8])
    await feed.setup()
    listener = await router.listen(AGENT)
    try:
        yield Setup(bus, sessions, router, feed, listener)
    finally:
        await listener.close()
        await router.close()
        await engine.dispose()


async def test_an_answer_whose_live_copy_was_lost_reaches_the_waiting_client(setup: Setup) -> None:
    asked = await setup.ask("hello")
    setup.listener.expect(asked, "chat-1")
    sent = await setup.answer_durably(asked, "hi there")
    got = await setup.listener.get(timeout=10)
    assert got == sent


async def test_a_client_back_after_its_message_gets_the_answer_not_yet_in_the_history(setup: Setup) -> None:
    first = await setup.ask("one")
    answer = await setup.answer_durably(first, "answer one")
    second = await setup.ask("two")

    replay = await setup.missed(first)
    assert replay.events == [answer]
    assert replay.waiting == [second]  # still unanswered: expected live
    # Its answer, when it comes, reaches the listener.
    later = await setup.answer_durably(second, "answer two", kind="error")
    assert await setup.listener.get(timeout=10) == later

    # After the answer the client already has (not in the history yet): nothing before it.
    replay = await setup.missed(answer["message_id"])
    assert replay.events == [later]
    assert replay.waiting == []


async def test_answers_in_the_history_are_replayed_in_order(setup: Setup) -> None:
    asked = [await setup.ask(text) for text in ("a", "b", "c")]
    async with session_scope(setup.sessions) as session:
        await chats_service.save_history(session, [
            {"message_id": f"r{n}", "reply_to": message_id, "org_id": "default", "agent_id": AGENT,
             "chat_id": CHAT, "position": 2 * (n + 1) + 1, "role": "assistant", "content": f"answer {n}",
             "channel": "web"}
            for n, message_id in enumerate(asked)
        ])
    replay = await setup.missed(asked[1])
    assert [(e["message_id"], e["reply_to"], e["response"]) for e in replay.events] == [
        ("r1", asked[1], "answer 1"), ("r2", asked[2], "answer 2"),
    ]
    assert replay.waiting == []
    replay = await setup.missed("r2")
    assert replay.events == [] and replay.waiting == []


async def test_an_id_the_chat_never_had_is_unknown(setup: Setup, monkeypatch: pytest.MonkeyPatch) -> None:
    await setup.ask("one")
    monkeypatch.setattr("agenthub.channels.replay.FEED_LAG", 0.05)
    with pytest.raises(UnknownMessage):
        await setup.missed("never-sent")


async def test_the_feed_reads_its_own_unacknowledged_entries_again(setup: Setup) -> None:
    """At least once: entries read but not acknowledged (the gateway died) are read again."""
    asked = await setup.ask("one")
    await setup.bus.add(keys.OUTBOUND_QUEUE, {
        "type": "message", "message_id": "m1", "reply_to": asked, "chat_id": CHAT, "response": "x", "agent_id": AGENT,
    })
    taken = await setup.bus.read({keys.OUTBOUND_QUEUE: ">"}, setup.feed.group, keys.OUTBOUND_CONSUMER)
    assert len(taken) == 1  # read, never acknowledged
    fresh = OutboundFeed(bus=setup.bus, router=setup.router, recent=RecentOutbound(), gateway_id="x")
    fresh.group = setup.feed.group
    assert await fresh.run_once(recover=True) == 1
    assert fresh.recent.answer_to(AGENT, CHAT, asked)["message_id"] == "m1"


SHOWN = ("type", "message_id", "reply_to", "chat_id", "response", "widget", "attachments", "more")
"""What a client is shown of an outbound ``message`` event."""


async def test_a_bots_turn_of_several_messages_is_replayed_whole_with_its_buttons_and_files(setup: Setup) -> None:
    """Before the history has it, partly stored, and stored: the same messages, once each."""
    asked = await setup.ask("menu")
    sent = [
        {"type": "message", "message_id": "step-1", "reply_to": asked, "chat_id": CHAT, "response": "Our menu:",
         "channel": "web", "agent_id": AGENT, "attachments": ["fil_menu"], "more": True},
        {"type": "message", "message_id": "step-2", "reply_to": asked, "chat_id": CHAT, "response": "Which one?",
         "channel": "web", "agent_id": AGENT, "widget": {"buttons": [{"text": "Pizza", "value": "pizza"}]}},
    ]
    for event in sent:
        await setup.bus.add(keys.OUTBOUND_QUEUE, event)
    assert await setup.feed.run_once() == 2

    def shown(events: list[dict[str, Any]]) -> list[dict[str, Any]]:
        return [{key: event[key] for key in SHOWN if key in event} for event in events]

    assert shown((await setup.missed(asked)).events) == shown(sent)

    # As the history saver stores them (the first without reply_to), one batch at a time.
    rows = [
        {"message_id": event["message_id"], "reply_to": None if event.get("more") else asked, "org_id": "default",
         "agent_id": AGENT, "chat_id": CHAT, "position": 3, "role": "assistant", "content": event["response"],
         "channel": "web", **{key: event[key] for key in ("widget", "attachments") if key in event}}
        for event in sent
    ]
    for stored in (rows[:1], rows[1:]):
        async with session_scope(setup.sessions) as session:
            await chats_service.save_history(session, stored)
        replay = await setup.missed(asked)
        assert shown(replay.events) == shown(sent) and replay.waiting == []

    # From the history, after the first of the two: the other one.
    assert shown((await setup.missed("step-1")).events) == shown(sent[1:])
