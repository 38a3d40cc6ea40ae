"""A bad queue entry never stops storage: a failed batch is stored entry by entry, and an
entry that fails QUEUE_MAX_DELIVERIES times goes to the dead letters with its error. On
both bus backends and on SQLite and PostgreSQL, driven by run_once."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from sqlalchemy import text

from agenthub.bus import Bus, keys
from agenthub.workers.base import EntriesFailed, QueueWorker
from agenthub.workers.dead_letters import DeadLetters
from agenthub.workers.history import HistorySaverWorker
from agenthub.workers.token_usage import TokenUsageWorker
from tests.runtime.helpers import create_agent_row, migrated_sessions
from tests.workers.test_queue_workers import AGENT, Db, answer, usage

MAX_DELIVERIES = 3


@pytest.fixture
async def db(database_url: str) -> AsyncIterator[Db]:
    engine, sessions = await migrated_sessions(database_url)
    await create_agent_row(sessions, AGENT)
    yield Db(sessions)
    await engine.dispose()


async def drain_counting_failures(worker: QueueWorker) -> int:
    """Run passes until nothing is left; returns how many passes reported failed entries."""
    failures = 0
    while True:
        try:
            if not await worker.run_once():
                return failures
        except EntriesFailed:
            failures += 1


def for_agent(entry: dict, agent_id: str) -> dict:
    return {**entry, "agent_id": agent_id}


async def test_an_answer_of_a_deleted_agent_goes_to_dead_letters_and_storage_goes_on(bus: Bus, db: Db) -> None:
    await create_agent_row(db.sessions, "doomed")
    saver = HistorySaverWorker(bus, db.sessions, max_deliveries=MAX_DELIVERIES)
    await saver.setup()
    await bus.add(keys.HISTORY_QUEUE, answer("m1", "before"))
    await bus.add(keys.HISTORY_QUEUE, for_agent(answer("m2", "the doomed agent's answer", chat_id="d1"), "doomed"))
    # The agent is purged while its answer is still queued (as a purge would: SQL, no soft delete).
    async with db.sessions() as session:
        await session.execute(text("DELETE FROM agents WHERE id = 'doomed'"))
        await session.commit()
    await bus.add(keys.HISTORY_QUEUE, for_agent(answer("m3", "from nowhere", chat_id="n1"), "never-existed"))
    await bus.add(keys.HISTORY_QUEUE, answer("m4", "after"))

    # The first pass stores the good entries of the batch; the two bad ones stay pending.
    with pytest.raises(EntriesFailed):
        await saver.run_once()
    assert [row.content for row in await db.messages()] == ["before", "after"]

    # Tried again until their third delivery, then moved to the dead letters.
    assert await drain_counting_failures(saver) == MAX_DELIVERIES - 2
    assert await bus.pending_count(keys.HISTORY_QUEUE, keys.QUEUE_GROUP) == 0
    dead = await DeadLetters(bus).entries(keys.HISTORY_QUEUE)
    assert [(letter.payload["reply_to"], letter.deliveries) for letter in dead] == [
        ("m2", MAX_DELIVERIES), ("m3", MAX_DELIVERIES)
    ]
    assert all(letter.error.startswith("IntegrityError") for letter in dead)
    assert all("the doomed agent's answer" not in letter.error for letter in dead)
    assert await DeadLetters(bus).counts() == {keys.HISTORY_QUEUE: 2, keys.TOKEN_USAGE_QUEUE: 0}

    # What comes next is stored as before.
    await bus.add(keys.HISTORY_QUEUE, answer("m5", "later"))
    assert await drain_counting_failures(saver) == 0
    assert [row.content for row in await db.messages()] == ["before", "after", "later"]


async def test_usage_that_can_never_be_stored_goes_to_dead_letters(bus: Bus, db: Db) -> None:
    counter = TokenUsageWorker(bus, db.sessions, max_deliveries=1)
    await counter.setup()
    broken = usage("gpt-4o-mini", 1, 1)
    del broken["model"]  # written by hand, or by an older version: it can't become a row
    await bus.add(keys.TOKEN_USAGE_QUEUE, broken)

    assert await drain_counting_failures(counter) == 0  # failed on its first (and last) delivery

    assert await db.usage() == []
    assert await DeadLetters(bus).counts() == {keys.HISTORY_QUEUE: 0, keys.TOKEN_USAGE_QUEUE: 1}


async def test_usage_of_an_agent_that_is_gone_is_kept(bus: Bus, db: Db) -> None:
    """Usage logs are billing records: they outlive the agent they describe."""
    counter = TokenUsageWorker(bus, db.sessions, max_deliveries=1)
    await counter.setup()
    await bus.add(keys.TOKEN_USAGE_QUEUE, for_agent(usage("gpt-4o-mini", 1, 1), "never-existed"))

    assert await drain_counting_failures(counter) == 0

    assert [row.agent_id for row in await db.usage()] == ["never-existed"]
    assert await DeadLetters(bus).counts() == {keys.HISTORY_QUEUE: 0, keys.TOKEN_USAGE_QUEUE: 0}


async def test_dead_letters_retried_once_the_cause_is_gone_are_stored(bus: Bus, db: Db) -> None:
    saver = HistorySaverWorker(bus, db.sessions, max_deliveries=1)
    await saver.setup()
    await bus.add(keys.HISTORY_QUEUE, for_agent(answer("m1", "early answer"), "late"))
    await drain_counting_failures(saver)
    dead_letters = DeadLetters(bus)
    assert await dead_letters.counts() == {keys.HISTORY_QUEUE: 1, keys.TOKEN_USAGE_QUEUE: 0}

    await create_agent_row(db.sessions, "late")  # the cause is fixed
    assert await dead_letters.retry(keys.HISTORY_QUEUE) == 1
    assert await dead_letters.counts() == {keys.HISTORY_QUEUE: 0, keys.TOKEN_USAGE_QUEUE: 0}
    assert await drain_counting_failures(saver) == 0

    assert [(row.agent_id, row.content) for row in await db.messages()] == [("late", "early answer")]


async def test_a_batch_waits_whole_while_the_database_is_unreachable(bus: Bus, db: Db) -> None:
    """An outage is nobody's fault: no entry is dead-lettered, however long it lasts."""
    from agenthub.db.engine import create_engine, create_session_factory

    unreachable = create_engine("postgresql+asyncpg://postgres@127.0.0.1:1/none")
    saver = HistorySaverWorker(bus, create_session_factory(unreachable), max_deliveries=1)
    await saver.setup()
    await bus.add(keys.HISTORY_QUEUE, answer("m1", "kept"))
    try:
        for _ in range(3):
            with pytest.raises(Exception) as failed:  # noqa: PT011 - the driver's own error
                await saver.run_once()
            assert not isinstance(failed.value, EntriesFailed)
    finally:
        await unreachable.dispose()

    assert await DeadLetters(bus).counts() == {keys.HISTORY_QUEUE: 0, keys.TOKEN_USAGE_QUEUE: 0}
    stored = HistorySaverWorker(bus, db.sessions)
    stored.consumer = saver.consumer
    assert await drain_counting_failures(stored) == 0
    assert [row.content for row in await db.messages()] == ["kept"]



async def test_draining_at_shutdown_stores_what_it_can_and_never_raises(bus: Bus, db: Db) -> None:
    saver = HistorySaverWorker(bus, db.sessions, max_deliveries=MAX_DELIVERIES)
    await saver.setup()
    await bus.add(keys.HISTORY_QUEUE, answer("m1", "stored"))
    await bus.add(keys.HISTORY_QUEUE, for_agent(answer("m2", "refused"), "never-existed"))

    await saver.drain()  # raises nothing: one entry stored, the other left pending

    assert [row.content for row in await db.messages()] == ["stored"]
    assert await bus.pending_count(keys.HISTORY_QUEUE, keys.QUEUE_GROUP) == 1
