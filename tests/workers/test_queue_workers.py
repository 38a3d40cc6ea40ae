"""The queue workers: history_queue -> chat messages, token_usage_queue -> usage logs.
Every test runs on both bus backends and on SQLite and PostgreSQL, driven by run_once."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy import select

from agenthub.billing.models import TokenUsageLog
from agenthub.bus import Bus, keys
from agenthub.chats.models import ChatMessage
from agenthub.db.engine import SessionFactory
from agenthub.workers import base as workers_base
from agenthub.workers.history import HistorySaverWorker
from agenthub.workers.token_usage import TokenUsageWorker
from tests.runtime.helpers import create_agent_row, eventually, migrated_sessions

AGENT = "scribe"
ORG = "default"


@dataclass
class Db:
    sessions: SessionFactory

    async def messages(self) -> list[ChatMessage]:
        async with self.sessions() as session:
            return list(await session.scalars(select(ChatMessage).order_by(ChatMessage.seq)))

    async def usage(self) -> list[TokenUsageLog]:
        async with self.sessions() as session:
            return list(await session.scalars(select(TokenUsageLog).order_by(TokenUsageLog.id)))


@pytest.fixture
async def db(database_url: str) -> AsyncIterator[Db]:
    engine, sessions = await migrated_sessions(database_url)
    await create_agent_row(sessions, AGENT)
    yield Db(sessions)
    await engine.dispose()


def answer(reply_to: str, content: str, *, chat_id: str = "c1", message_id: str | None = None) -> dict[str, Any]:
    """A history entry as a turn queues it."""
    return {
        "message_id": message_id or uuid.uuid4().hex,
        "reply_to": reply_to,
        "org_id": ORG,
        "agent_id": AGENT,
        "chat_id": chat_id,
        "position": 3,
        "role": "assistant",
        "content": content,
        "channel": "web",
    }


def usage(
    model: str,
    input_tokens: int,
    output_tokens: int,
    *,
    provider: str = "openai",
    message_id: str | None = None,
) -> dict[str, Any]:
    """A token usage entry as a turn queues it."""
    return {
        "message_id": message_id or uuid.uuid4().hex,
        "org_id": ORG,
        "agent_id": AGENT,
        "chat_id": "c1",
        "provider": provider,
        "model": model,
        "input_tokens": input_tokens,
        "output_tokens": output_tokens,
    }


async def drain(worker: workers_base.QueueWorker) -> int:
    total = 0
    while processed := await worker.run_once():
        total += processed
    return total


async def test_history_saver_stores_each_answer_once(bus: Bus, db: Db) -> None:
    saver = HistorySaverWorker(bus, db.sessions)
    await saver.setup()
    first = answer("m1", "first answer")
    second = answer("m2", "to another chat", chat_id="c2")
    await bus.add(keys.HISTORY_QUEUE, first)
    await bus.add(keys.HISTORY_QUEUE, second)
    await bus.add(keys.HISTORY_QUEUE, first)  # the same entry queued twice
    await bus.add(keys.HISTORY_QUEUE, answer("m1", "a second answer to m1"))

    assert await drain(saver) == 4
    rows = await db.messages()
    assert [(r.message_id, r.reply_to, r.chat_id, r.role, r.content) for r in rows] == [
        (first["message_id"], "m1", "c1", "assistant", "first answer"),
        (second["message_id"], "m2", "c2", "assistant", "to another chat"),
    ]
    assert await bus.pending_count(keys.HISTORY_QUEUE, keys.QUEUE_GROUP) == 0

    # Processed but not acknowledged (the worker died in between): done again, stored once.
    await bus.add(keys.HISTORY_QUEUE, first)
    taken = await bus.read({keys.HISTORY_QUEUE: ">"}, keys.QUEUE_GROUP, saver.consumer)
    await saver.process(taken)
    assert await bus.pending_count(keys.HISTORY_QUEUE, keys.QUEUE_GROUP) == 1
    assert await drain(saver) == 1
    assert await bus.pending_count(keys.HISTORY_QUEUE, keys.QUEUE_GROUP) == 0
    assert len(await db.messages()) == 2


async def test_history_saver_keeps_what_a_message_shows_beside_its_text(bus: Bus, db: Db) -> None:
    """Tool calls, citations, buttons, attachments and a stopped answer come back as queued;
    what a message does not have is empty."""
    saver = HistorySaverWorker(bus, db.sessions)
    await saver.setup()
    shown = {
        "tool_calls": [{"name": "search", "args": {"q": "ünï ✓"}}],
        "citations": [{"document_id": "d1", "title": "Doc"}],
        "widget": {"buttons": [{"text": "Pizza", "value": "pizza"}]},
        "attachments": ["file_1", "file_2"],
    }
    await bus.add(keys.HISTORY_QUEUE, {**answer("m1", "with everything"), **shown, "stopped": True})
    await bus.add(keys.HISTORY_QUEUE, answer("m2", "plain"))

    assert await drain(saver) == 2
    full, plain = await db.messages()
    assert (full.tool_calls, full.citations, full.widget, full.attachments, full.stopped) == (
        shown["tool_calls"], shown["citations"], shown["widget"], shown["attachments"], True)
    assert (plain.tool_calls, plain.citations, plain.widget, plain.attachments, plain.stopped) == (
        None, None, None, None, False)
    assert full.created_at is not None and full.position == plain.position == 3


async def test_token_usage_is_stored_once_with_cost_where_the_model_is_priced(bus: Bus, db: Db) -> None:
    worker = TokenUsageWorker(bus, db.sessions)
    await worker.setup()
    priced = usage("gpt-4o-mini", 1000, 500)
    vendor = usage("openai/gpt-4o-mini", 2000, 0, provider="openrouter")
    unknown = usage("someone/unpriced-model", 10, 20, provider="openrouter")
    # The same model name on a local or self-hosted server is not OpenAI's to charge for.
    local = usage("gpt-4o-mini", 1000, 500, provider="ollama")
    proxied = usage("gpt-4o-mini", 1000, 500, provider="openai_compatible")
    demo = usage("demo", 1000, 500, provider="fake")
    for entry in (priced, vendor, unknown, local, proxied, demo, priced):
        await bus.add(keys.TOKEN_USAGE_QUEUE, entry)

    assert await drain(worker) == 7
    rows = {row.message_id: row for row in await db.usage()}
    assert len(rows) == 6
    assert rows[local["message_id"]].cost is None and rows[local["message_id"]].provider == "ollama"
    assert rows[proxied["message_id"]].cost is None
    assert rows[demo["message_id"]].cost == Decimal(0)
    row = rows[priced["message_id"]]
    assert (row.agent_id, row.org_id, row.model, row.input_tokens, row.output_tokens) == (
        AGENT, ORG, "gpt-4o-mini", 1000, 500
    )
    # $0.15 / $0.60 per million tokens in / out.
    assert row.cost == Decimal("0.00045")
    assert rows[vendor["message_id"]].cost == Decimal("0.0003")
    assert rows[unknown["message_id"]].cost is None
    assert rows[unknown["message_id"]].input_tokens == 10
    assert await bus.pending_count(keys.TOKEN_USAGE_QUEUE, keys.QUEUE_GROUP) == 0


async def test_entries_left_pending_by_a_dead_worker_are_claimed(
    bus: Bus, db: Db, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(workers_base, "CLAIM_IDLE_MS", 500)
    saver = HistorySaverWorker(bus, db.sessions)
    counter = TokenUsageWorker(bus, db.sessions)
    for worker in (saver, counter):
        await worker.setup()
    await bus.add(keys.HISTORY_QUEUE, answer("m1", "left behind"))
    await bus.add(keys.TOKEN_USAGE_QUEUE, usage("gpt-4o-mini", 100, 100))
    # Another worker read both entries and died without acknowledging them.
    for queue in (keys.HISTORY_QUEUE, keys.TOKEN_USAGE_QUEUE):
        taken = await bus.read({queue: ">"}, keys.QUEUE_GROUP, "history-saver-elsewhere-1")
        assert len(taken) == 1

    # Freshly taken entries of another consumer are not stolen...
    assert await saver.run_once() == 0
    assert await counter.run_once() == 0
    assert await db.messages() == [] and await db.usage() == []

    # ...but once they have been idle long enough, they are claimed and stored.
    await eventually(saver.run_once, what="the history entry to be claimed")
    await eventually(counter.run_once, what="the usage entry to be claimed")
    assert [row.content for row in await db.messages()] == ["left behind"]
    assert [row.model for row in await db.usage()] == ["gpt-4o-mini"]
    for queue in (keys.HISTORY_QUEUE, keys.TOKEN_USAGE_QUEUE):
        assert await bus.pending_count(queue, keys.QUEUE_GROUP) == 0
