"""The ways a message is handled, on SQLite and PostgreSQL: on PostgreSQL, one that reaches
no action and changes only its session is read and saved in two statements and no
transaction; otherwise in the one transaction that reads the session when it reaches no
action, else with its actions run outside any transaction and its writes saved in a second
one. Both are exactly once as the user sees it:
a message delivered again moves the session once and is answered with what was sent, and a
session another host saved meanwhile is handled again from what was saved."""

from __future__ import annotations

import asyncio
import uuid
from collections import Counter
from typing import Any

from sqlalchemy import event, func, select

from agenthub.db.engine import SessionFactory
from agenthub.scenarios.document import BotDocument, GroupDoc
from agenthub.scenarios.models import Bot, ScenarioSession, StepEvent
from agenthub.scenarios.sessions import BotCache, Processed
from agenthub.scenarios.variables import Scopes
from tests.runtime.helpers import migrated_sessions
from tests.scenarios.helpers import add_bot
from tests.scenarios.test_sessions import COUNTER, envelope, send, texts


def cycle_step(key: str, following: str) -> dict[str, Any]:
    return {"key": key, "message": {"text": f"Step {key}"}, "connection_groups": [{"connections": [
        {"rules": {"condition": "AND", "rules": [{"field": "message.text", "operator": "is_not_empty"}]},
         "next_step": following}]}]}


CYCLE = {"name": "Cycle", "first_step": "a",
         "steps": [cycle_step("a", "b"), cycle_step("b", "c"), cycle_step("c", "a")]}
"""A bot whose every message moves one step round a -> b -> c -> a, with no action."""


class Transactions:
    """Counts the transactions SQLAlchemy begins on an engine and, on PostgreSQL, every
    statement asyncpg sends on its connections (SQLAlchemy's and the driver's own, ``BEGIN``
    and ``COMMIT`` included: once :meth:`watch_driver` has been awaited)."""

    def __init__(self, engine: Any) -> None:
        self.engine = engine
        self.count = 0
        self.statements: list[str] = []
        event.listen(engine.sync_engine, "begin", self._begun)

    async def watch_driver(self) -> Transactions:
        if self.engine.dialect.name == "postgresql":
            await self.engine.dispose()  # connections opened from now on are watched
            event.listen(self.engine.sync_engine, "connect", self._connected)
        return self

    def _connected(self, dbapi_connection: Any, record: Any) -> None:
        dbapi_connection.driver_connection.add_query_logger(lambda logged: self.statements.append(logged.query))

    def _begun(self, connection: Any) -> None:
        self.count += 1

    async def during(self, work: Any) -> tuple[Any, int]:
        before = self.count
        result = await work
        return result, self.count - before

    async def sent_by(self, work: Any) -> tuple[Any, int, list[str]]:
        """What ``work`` returned, the transactions it began and the statements it sent."""
        before = len(self.statements)
        result, used = await self.during(work)
        return result, used, self.statements[before:]


def no_actions(document: BotDocument, message: dict[str, Any]):  # type: ignore[no-untyped-def]
    async def run(group: GroupDoc, scopes: Scopes) -> dict[str, Any]:
        raise AssertionError("this bot has no action")
    return run


async def step_events(sessions: SessionFactory, bot_id: str) -> int:
    async with sessions() as db:
        return int(await db.scalar(select(func.count()).select_from(StepEvent).where(StepEvent.bot_id == bot_id)) or 0)


async def session_of(sessions: SessionFactory, bot_id: str) -> ScenarioSession:
    async with sessions() as db:
        row = await db.scalar(select(ScenarioSession).where(ScenarioSession.bot_id == bot_id))
    assert row is not None
    return row


async def test_a_message_reaching_no_action_is_handled_in_one_transaction_and_once(database_url: str) -> None:
    engine, sessions = await migrated_sessions(database_url)
    postgres = engine.dialect.name == "postgresql"
    try:
        bot_id = await add_bot(sessions, CYCLE)
        transactions, cache = await Transactions(engine).watch_driver(), BotCache()
        warm = await add_bot(sessions, CYCLE)  # the connection's first statements: asyncpg learns their types
        for text in ("one", "two"):
            await send(sessions, warm, envelope(text), no_actions, cache=BotCache())
        first, used = await transactions.during(send(sessions, bot_id, envelope("hi"), no_actions, cache=cache))
        assert texts(first) == ["Step b"] and used == 1  # the session made in the same transaction
        message = envelope("again")
        second, used, sent = await transactions.sent_by(send(sessions, bot_id, message, no_actions, cache=cache))
        assert texts(second) == ["Step c"] and not second.replayed
        if postgres:  # read, then saved with its step events: two statements, no transaction
            assert used == 0 and len(sent) == 2, [" ".join(q.split())[:90] for q in sent]
            assert sent[0].startswith("SELECT") and sent[1].startswith("WITH saved AS")
        else:
            assert used == 1
        assert await step_events(sessions, bot_id) == 3  # b entered; b moved on, c entered (a was never entered)

        # Delivered again (the host died before the reply went out): answered as before, nothing moves.
        again, used, sent = await transactions.sent_by(send(sessions, bot_id, message, no_actions, cache=cache))
        assert again.replayed and texts(again) == ["Step c"]
        assert (used, len(sent)) == (0, 1) if postgres else used == 1  # PostgreSQL: the read alone
        row = await session_of(sessions, bot_id)
        assert row.step_id == "c" and row.last_message_id == message["message_id"]
        assert await step_events(sessions, bot_id) == 3  # b entered; b moved on, c entered (a was never entered)
    finally:
        await engine.dispose()


async def test_steps_events_saved_with_the_session_keep_their_order(database_url: str) -> None:
    """A message that walks several steps (proxy steps) saves their events in the order they
    happened, whichever way it was saved."""
    engine, sessions = await migrated_sessions(database_url)
    try:
        chain = {"name": "Chain", "first_step": "a", "steps": [
            cycle_step("a", "b"),
            {**cycle_step("b", "c"), "is_proxy": True},
            {**cycle_step("c", "a"), "is_proxy": True},
        ]}
        bot_id = await add_bot(sessions, chain)
        cache = BotCache()
        await send(sessions, bot_id, envelope("one"), no_actions, cache=cache)  # a -> b -> c -> a
        await send(sessions, bot_id, envelope("two"), no_actions, cache=cache)  # again, the session known
        async with sessions() as db:
            events = [(e.step_id, e.kind) for e in await db.scalars(
                select(StepEvent).where(StepEvent.bot_id == bot_id).order_by(StepEvent.seq))]
        walk = [("b", "entered"), ("b", "moved_on"), ("c", "entered"), ("c", "moved_on"), ("a", "entered")]
        assert events == walk + [("a", "moved_on"), *walk]
    finally:
        await engine.dispose()


async def test_a_message_reaching_an_action_runs_it_holding_no_connection_and_once(database_url: str) -> None:
    engine, sessions = await migrated_sessions(database_url)
    try:
        bot_id = await add_bot(sessions, COUNTER)
        transactions, runs, held = Transactions(engine), [0], []

        def actions(document: BotDocument, message: dict[str, Any]):  # type: ignore[no-untyped-def]
            async def run(group: GroupDoc, scopes: Scopes) -> dict[str, Any]:
                held.append(engine.sync_engine.pool.checkedout())
                runs[0] += 1
                return {"n": runs[0], "name": "Ann"}
            return run

        message = envelope("x")
        done, used = await transactions.during(send(sessions, bot_id, message, actions))
        assert texts(done) == ["Ann #1"] and held == [0]
        assert used == 2  # read, then (the action run meanwhile) saved
        events = await step_events(sessions, bot_id)

        again, used = await transactions.during(send(sessions, bot_id, message, actions))
        assert again.replayed and texts(again) == ["Ann #1"] and runs == [1]
        assert used == (0 if engine.dialect.name == "postgresql" else 1)  # PostgreSQL: read, with no lock
        assert (await session_of(sessions, bot_id)).variables == {"n": 1}
        assert await step_events(sessions, bot_id) == events
    finally:
        await engine.dispose()


async def test_a_session_another_host_saved_meanwhile_is_handled_again(database_url: str) -> None:
    engine, sessions = await migrated_sessions(database_url)
    try:
        bot_id = await add_bot(sessions, COUNTER)
        count, other_host = [0], BotCache()
        second: list[Processed] = []

        def actions(document: BotDocument, message: dict[str, Any]):  # type: ignore[no-untyped-def]
            async def run(group: GroupDoc, scopes: Scopes) -> dict[str, Any]:
                count[0] += 1
                if count[0] == 1:  # while the first message's action runs, another host handles the next
                    second.append(await send(sessions, bot_id, envelope("y"), actions, cache=other_host))
                return {"n": count[0], "name": "Ann"}
            return run

        first = await send(sessions, bot_id, envelope("x"), actions)
        assert texts(second[0]) == ["Ann #2"]
        assert texts(first) == ["Ann #3"] and not first.replayed  # its action ran again on what was saved
        assert (await session_of(sessions, bot_id)).variables == {"n": 3}
        async with sessions() as db:
            bot = await db.get(Bot, bot_id)
        assert bot is not None and bot.variables == {"hits": 3}
    finally:
        await engine.dispose()


async def test_a_message_another_host_answered_meanwhile_is_not_saved_twice(database_url: str) -> None:
    engine, sessions = await migrated_sessions(database_url)
    try:
        bot_id = await add_bot(sessions, COUNTER)
        count, other_host, message = [0], BotCache(), envelope("x")
        elsewhere: list[Processed] = []

        def actions(document: BotDocument, envelope_: dict[str, Any]):  # type: ignore[no-untyped-def]
            async def run(group: GroupDoc, scopes: Scopes) -> dict[str, Any]:
                count[0] += 1
                if count[0] == 1:  # the same message, delivered to another host meanwhile
                    elsewhere.append(await send(sessions, bot_id, message, actions, cache=other_host))
                return {"n": count[0], "name": "Ann"}
            return run

        first = await send(sessions, bot_id, message, actions)
        assert texts(elsewhere[0]) == ["Ann #2"] and not elsewhere[0].replayed
        assert first.replayed and texts(first) == ["Ann #2"]  # what the user was sent for it, once
        row = await session_of(sessions, bot_id)
        assert row.variables == {"n": 2} and row.last_reply == [{"text": "Ann #2"}]
        async with sessions() as db:
            kinds = Counter((e.step_id, e.kind) for e in await db.scalars(select(StepEvent)
                                                                          .where(StepEvent.bot_id == bot_id)))
        assert kinds == Counter({("b", "entered"): 1, ("b", "moved_on"): 1, ("a", "entered"): 1})
    finally:
        await engine.dispose()


async def test_messages_of_one_session_from_two_hosts_each_move_it_once(database_url: str) -> None:
    engine, sessions = await migrated_sessions(database_url)
    try:
        bot_id = await add_bot(sessions, CYCLE)
        hosts = [BotCache(), BotCache()]  # no lock in common: only the database orders them
        done = await asyncio.gather(*(
            send(sessions, bot_id, envelope(f"m{i}", message_id=uuid.uuid4().hex), no_actions, cache=hosts[i % 2])
            for i in range(6)
        ))
        assert Counter(text for d in done for text in texts(d)) == Counter({"Step b": 2, "Step c": 2, "Step a": 2})
        assert (await session_of(sessions, bot_id)).step_id == "a"
        assert await step_events(sessions, bot_id) == 11  # a new session's first step is not moved on from
    finally:
        await engine.dispose()


async def test_messages_of_many_sessions_handled_at_once_share_their_statements(postgres_url: str) -> None:
    """PostgreSQL: the messages a host handles at the same time, each of its own session, are
    read in one statement and saved in one; each session moves on its own, its step events
    with it, and a session another host saved since it was read is handled again alone."""
    engine, sessions = await migrated_sessions(postgres_url)
    try:
        bot_id = await add_bot(sessions, CYCLE)
        transactions, cache = await Transactions(engine).watch_driver(), BotCache()
        users = [f"u{n}" for n in range(12)]
        for user in users:  # each session made (a -> b), the statements' types learnt
            await send(sessions, bot_id, envelope("hi", user=user), no_actions, cache=cache)
        moved, used, sent = await transactions.sent_by(asyncio.gather(
            *(send(sessions, bot_id, envelope("go", user=user), no_actions, cache=cache) for user in users)))
        assert [texts(done) for done in moved] == [["Step c"]] * len(users)
        assert used == 0 and len(sent) < len(users), [" ".join(q.split())[:60] for q in sent]
        assert sum(q.startswith("SELECT") for q in sent) < len(users) / 2
        async with sessions() as db:
            steps = Counter((await db.scalars(select(ScenarioSession.step_id).where(ScenarioSession.bot_id == bot_id))))
        assert steps == {"c": len(users)}
        assert await step_events(sessions, bot_id) == len(users) * 3  # b entered; b moved on, c entered

        # Another host saves u0's session between this host's read and its save.
        other_host = BotCache()
        at_once = cache.grouped(sessions)
        assert at_once is not None
        read = at_once.reads.call

        async def read_then_other_host_moves(asked: tuple[str, str, str]) -> Any:
            row = await read(asked)
            if asked[1] == "user:u0":
                await send(sessions, bot_id, envelope("other", user="u0"), no_actions, cache=other_host)
            return row

        at_once.reads.call = read_then_other_host_moves  # type: ignore[method-assign]
        moved = await asyncio.gather(*(send(sessions, bot_id, envelope("go", user=user), no_actions, cache=cache)
                                       for user in users[:4]))
        assert [texts(done) for done in moved] == [["Step b"]] + [["Step a"]] * 3  # u0: c -> a by the other, -> b
        async with sessions() as db:
            rows = {key: step for key, step in await db.execute(
                select(ScenarioSession.user_key, ScenarioSession.step_id).where(ScenarioSession.bot_id == bot_id))}
        assert rows["user:u0"] == "b" and [rows[f"user:u{n}"] for n in (1, 2, 3)] == ["a"] * 3
    finally:
        await engine.dispose()
