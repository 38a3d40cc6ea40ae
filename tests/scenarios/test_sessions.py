"""Sessions on SQLite and PostgreSQL: one per (user, bot, channel), variables by scope saved
with the move in one transaction, drafts for test chats, and concurrent messages of one
user taking turns."""

from __future__ import annotations

import asyncio
import uuid
from typing import Any

from sqlalchemy import select

from agenthub.db.engine import SessionFactory
from agenthub.scenarios.document import BotDocument, GroupDoc, parse
from agenthub.scenarios.models import Bot, ScenarioSession, UserVariables
from agenthub.scenarios.sessions import BotCache, Processed, process, user_key_of
from agenthub.scenarios.variables import Scopes
from tests.runtime.helpers import migrated_sessions
from tests.scenarios.helpers import PIZZA, add_bot, go

COUNTER = {"name": "Counter", "first_step": "a", "variables": {"hits": 0}, "steps": [
    {"key": "a", "connection_groups": [{"search_type": "code", "code": "async def main(message, variables): ...",
                                        "variables": {"session.n": "$.n", "user.name": "$.name", "bot.hits": "$.n"},
                                        "connections": [go("b")]}]},
    {"key": "b", "is_proxy": True, "message": {"text": "{$user.name$} #{$session.n$}"},
     "connection_groups": [{"connections": [go("a")]}]}]}


def envelope(text: str, *, user: str = "u1", channel: str = "web", message_id: str | None = None) -> dict[str, Any]:
    return {"message_id": message_id or uuid.uuid4().hex, "chat_id": "c", "text": text, "channel": channel,
            "user_id": user, "platform_user_id": user}


def counting(start: int = 0):  # type: ignore[no-untyped-def]
    count = [start]

    def actions(document: BotDocument, message: dict[str, Any]):  # type: ignore[no-untyped-def]
        async def run(group: GroupDoc, scopes: Scopes) -> dict[str, Any]:
            count[0] += 1
            return {"n": count[0], "name": "Ann"}
        return run
    return actions


async def send(sessions: SessionFactory, bot_id: str, message: dict[str, Any], actions: Any = None,
               cache: BotCache | None = None, **more: Any) -> Processed:
    return await process(sessions, bot_id=bot_id, envelope=message, cache=cache or BotCache(),
                         actions=actions or counting(), max_steps=50, **more)


def texts(processed: Processed) -> list[str]:
    return [m["text"] for m in processed.messages]


async def test_variables_of_every_scope_are_saved_with_the_move(database_url: str) -> None:
    engine, sessions = await migrated_sessions(database_url)
    try:
        bot_id = await add_bot(sessions, COUNTER)
        other = await add_bot(sessions, PIZZA)
        actions = counting()
        assert texts(await send(sessions, bot_id, envelope("x"), actions)) == ["Ann #1"]
        assert texts(await send(sessions, bot_id, envelope("x"), actions)) == ["Ann #2"]
        await send(sessions, bot_id, envelope("x", channel="telegram"), actions)  # another session
        async with sessions() as db:
            rows = list(await db.scalars(select(ScenarioSession).where(ScenarioSession.bot_id == bot_id)
                                         .order_by(ScenarioSession.channel)))
            people = await db.get(UserVariables, (rows[0].org_id, "user:u1"))
            bot = await db.get(Bot, bot_id)
        assert [(r.channel, r.user_key, r.variables) for r in rows] == [
            ("telegram", "user:u1", {"n": 3}), ("web", "user:u1", {"n": 2})]
        assert people is not None and people.variables == {"name": "Ann"}
        assert bot is not None and bot.variables == {"hits": 3}
        # user.* is the end user's in the organisation: another bot sees it.
        assert texts(await send(sessions, other, envelope("soup"))) == ["Hi! Pizza or pasta at Luigi?"]
    finally:
        await engine.dispose()


async def test_a_failed_turn_keeps_nothing(database_url: str) -> None:
    engine, sessions = await migrated_sessions(database_url)
    try:
        bot_id = await add_bot(sessions, PIZZA)

        def failing(document: BotDocument, message: dict[str, Any]):  # type: ignore[no-untyped-def]
            raise RuntimeError("the host died")

        try:
            await process(sessions, bot_id=bot_id, envelope=envelope("pizza"), cache=BotCache(), actions=failing,
                          max_steps=50)
        except RuntimeError:
            pass
        async with sessions() as db:
            assert await db.scalar(select(ScenarioSession.step_id).where(ScenarioSession.bot_id == bot_id)) is None
        assert texts(await send(sessions, bot_id, envelope("pizza"))) == ["Which size?"]
    finally:
        await engine.dispose()


async def test_test_chats_run_the_draft_in_a_session_of_their_own(sqlite_url: str) -> None:
    engine, sessions = await migrated_sessions(sqlite_url)
    try:
        bot_id = await add_bot(sessions, PIZZA)
        draft = {**PIZZA, "steps": [{**PIZZA["steps"][0], "message": {"text": "Draft hello"}}, *PIZZA["steps"][1:]]}

        async def load_draft(db: Any, bot: str) -> BotDocument:
            return parse(draft)

        tested = await send(sessions, bot_id, envelope("soup"), draft=load_draft, test=True)
        real = await send(sessions, bot_id, envelope("soup"), draft=load_draft)
        assert texts(tested) == ["Draft hello"] and texts(real) == ["Hi! Pizza or pasta at Luigi?"]
        assert tested.session_id != real.session_id
    finally:
        await engine.dispose()


async def test_concurrent_messages_of_one_user_take_turns(postgres_url: str) -> None:
    engine, sessions = await migrated_sessions(postgres_url)
    try:
        bot_id = await add_bot(sessions, COUNTER)
        actions, cache = counting(), BotCache()  # as the one host holding the bot keeps it
        done = await asyncio.gather(*(send(sessions, bot_id, envelope("x"), actions, cache=cache) for _ in range(8)))
        assert sorted(texts(d)[0] for d in done) == sorted(f"Ann #{n}" for n in range(1, 9))
        async with sessions() as db:
            row = await db.scalar(select(ScenarioSession).where(ScenarioSession.bot_id == bot_id))
        assert row is not None and row.variables == {"n": 8}
    finally:
        await engine.dispose()


def test_the_user_of_a_message() -> None:
    assert user_key_of({"user_id": "abc"}) == "user:abc"
    assert user_key_of({"user_id": "web:anonymous:1.2.3.4"}) == "web:anonymous:1.2.3.4"
    assert user_key_of({"user_id": None, "channel": "web", "platform_user_id": "key1"}) == "web:key1"
