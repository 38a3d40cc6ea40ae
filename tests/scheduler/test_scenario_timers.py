"""Delayed and periodic messages of scenario bots: a step's emitter moves the session after
its delay and what the step sends reaches the WebSocket watching the chat and its history
(on the in-process bus and on Redis), without the message the scheduler pushed to the bot;
a session that moved on drops the move; two schedulers fire a move once; a bot's cron runs
its step once for each open session. On SQLite and PostgreSQL; the scheduler's looks are
made with a controlled clock (``run_once(now=...)``)."""

from __future__ import annotations

import asyncio
import json
import uuid
from datetime import timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy import select

from agenthub.config import Settings
from agenthub.db.base import utcnow
from agenthub.db.engine import SessionFactory, session_scope
from agenthub.scenarios.models import DelayedMove, ScenarioSession
from agenthub.scheduler.scenario_timers import ScenarioTimers
from tests.agents.helpers import migrated
from tests.channels.helpers import chat_messages
from tests.runtime.helpers import eventually
from tests.scenarios.helpers import equal, go, ws_turn
from tests.support.server import RunningApp, make_settings, running_app, settings_on_each_bus
from tests.support.ws import connect


def reminder_bot(delay: float) -> dict[str, Any]:
    return {
        "name": "Reminder", "first_step": "hello",
        "steps": [
            {"key": "hello", "message": {"text": "Hi! Say pizza."},
             "emitter": {"delay_seconds": delay, "next_step": "reminder"},
             "connection_groups": [{"connections": [go("size", equal("pizza"), 10), go("hello")]}]},
            {"key": "reminder", "message": {"text": "Still there? Say pizza."},
             "connection_groups": [{"connections": [go("size", equal("pizza"))]}]},
            {"key": "size", "message": {"text": "Which size?"}},
            {"key": "news", "message": {"text": "News of the day!"},
             "connection_groups": [{"connections": [go("hello")]}]},
        ],
        "crons": [{"cron": "0 9 * * *", "timezone": "Europe/Berlin", "step": "news"}],
    }


async def imported(app: RunningApp, document: dict[str, Any]) -> str:
    """A bot made by importing ``document`` (published at once: its crons are rows)."""
    async with httpx.AsyncClient(base_url=app.url, timeout=20, headers=app.headers) as client:
        response = await client.post("/api/v1/bots/import", json=document)
    assert response.status_code == 201, response.text
    return str(response.json()["id"])


async def moves(sessions: SessionFactory, bot_id: str) -> list[DelayedMove]:
    async with sessions() as db:
        return list(await db.scalars(select(DelayedMove).where(DelayedMove.bot_id == bot_id)))


async def session_of(sessions: SessionFactory, bot_id: str, chat_id: str) -> ScenarioSession:
    async with sessions() as db:
        row = await db.scalar(select(ScenarioSession).where(
            ScenarioSession.bot_id == bot_id, ScenarioSession.chat_id == chat_id))
    assert row is not None
    return row


async def next_message(socket: Any) -> dict[str, Any]:
    async with asyncio.timeout(30):
        while True:
            event = json.loads(await socket.recv())
            if event["type"] in ("message", "error"):
                return dict(event)


@pytest.fixture(params=["memory", "redis"])
def delay_settings(request: pytest.FixtureRequest, database_url: str) -> Settings:
    return settings_on_each_bus(request, database_url)


async def test_a_delayed_message_reaches_the_chat_s_websocket_and_history(delay_settings: Settings) -> None:
    await migrated(delay_settings.database_url)
    async with running_app(delay_settings) as app:
        sessions = app.app.state.session_factory
        bot_id = await imported(app, reminder_bot(1))
        timers: ScenarioTimers = app.app.state.scenario_timers
        async with connect(app.ws(f"/ws/agents/{bot_id}?chat_id=delay-chat")) as socket:
            assert [e["content"] for e in await ws_turn(socket, "hello")] == ["Hi! Say pizza."]
            [scheduled] = await moves(sessions, bot_id)
            assert (scheduled.from_step_id, scheduled.next_step_id) == ("hello", "reminder")
            await timers.run_once(now=scheduled.due_at + timedelta(seconds=1))  # (or the app's own loop)
            pushed = await next_message(socket)
            assert pushed["content"] == "Still there? Say pizza."
            assert [e["content"] for e in await ws_turn(socket, "pizza")] == ["Which size?"]

        async with httpx.AsyncClient(base_url=app.url, timeout=20, headers=app.headers) as client:
            async def stored() -> list[dict[str, Any]] | None:
                rows = await chat_messages(client, bot_id, "delay-chat")
                return rows if len(rows) == 5 else None

            history = await eventually(stored, what="the chat's history")
        row = await session_of(sessions, bot_id, "delay-chat")
        [fired] = await moves(sessions, bot_id)  # the reminder step has no emitter: no new move
    assert [(m["role"], m["content"]) for m in history] == [  # not the message the scheduler pushed: its answer
        ("user", "hello"), ("assistant", "Hi! Say pizza."), ("assistant", "Still there? Say pizza."),
        ("user", "pizza"), ("assistant", "Which size?"),
    ]
    assert row.step_id == "size"
    assert fired.done_at is not None


async def test_a_session_that_moved_on_drops_the_move_and_two_schedulers_fire_one_once(database_url: str) -> None:
    await migrated(database_url)
    async with running_app(make_settings(database_url=database_url)) as app:
        sessions = app.app.state.session_factory
        gateway = app.app.state.gateway
        # No cron: the hour this test looks ahead may hold the bot's 9:00 (from 07:00 UTC).
        bot_id = await imported(app, {**reminder_bot(3600), "crons": []})
        first = ScenarioTimers(sessions=sessions, gateway=gateway, settings=app.settings, owner="one")
        second = ScenarioTimers(sessions=sessions, gateway=gateway, settings=app.settings, owner="two")
        async with connect(app.ws(f"/ws/agents/{bot_id}?chat_id=moved-on")) as socket:
            await ws_turn(socket, "hello")
            await ws_turn(socket, "pizza")  # moved on to `size` before the hour is up
            [move] = await moves(sessions, bot_id)
            later = move.due_at + timedelta(seconds=1)
            assert await first.run_once(now=later) == []
            assert await first.run_once(now=later) == []
            assert (await session_of(sessions, bot_id, "moved-on")).step_id == "size"

        async with session_scope(sessions) as db:  # the session in `size` now: a move from there
            db.add(DelayedMove(
                id="dmv_twice", org_id=move.org_id, bot_id=bot_id, session_id=move.session_id,
                from_step_id="size", next_step_id="reminder", due_at=later,
            ))
        taken = await asyncio.gather(first.run_once(now=later), second.run_once(now=later),
                                     first.run_once(now=later), second.run_once(now=later))
        assert sorted(len(t) for t in taken) == [0, 0, 0, 1]
        async with httpx.AsyncClient(base_url=app.url, timeout=20, headers=app.headers) as client:
            async def reminded() -> list[dict[str, Any]] | None:
                rows = await chat_messages(client, bot_id, "moved-on")
                return rows if rows and rows[-1]["content"] == "Still there? Say pizza." else None

            history = await eventually(reminded, what="the reminder in the history")
        row = await session_of(sessions, bot_id, "moved-on")
        # a new scheduler's first look deletes the moves done more than a day before
        await ScenarioTimers(sessions=sessions, gateway=gateway, settings=app.settings).run_once(
            now=later + timedelta(days=2))
        left = await moves(sessions, bot_id)
    assert [m["content"] for m in history].count("Still there? Say pizza.") == 1
    assert row.step_id == "reminder"
    assert left == []


async def test_a_cron_runs_its_step_once_for_each_open_session(database_url: str) -> None:
    await migrated(database_url)
    async with running_app(make_settings(database_url=database_url)) as app:
        sessions = app.app.state.session_factory
        gateway = app.app.state.gateway
        bot_id = await imported(app, reminder_bot(3600))
        first = ScenarioTimers(sessions=sessions, gateway=gateway, settings=app.settings, owner="one")
        second = ScenarioTimers(sessions=sessions, gateway=gateway, settings=app.settings, owner="two")
        async with connect(app.ws(f"/ws/agents/{bot_id}?chat_id=cron-chat")) as socket:
            await ws_turn(socket, "pizza")  # this session waits in `size`
            owner = await session_of(sessions, bot_id, "cron-chat")
            async with session_scope(sessions) as db:
                db.add(ScenarioSession(
                    id=uuid.uuid4().hex, org_id=owner.org_id, bot_id=bot_id, user_key="web:visitor", channel="web",
                    chat_id="visitor-chat", step_id="size", variables={}, frames=[],
                ))
                db.add(ScenarioSession(
                    id=uuid.uuid4().hex, org_id=owner.org_id, bot_id=bot_id, user_key="web:gone", channel="web",
                    chat_id="gone-chat", step_id="size", variables={}, frames=[], ended_at=utcnow(),
                ))
            start = utcnow()
            assert await first.run_once(now=start) == []  # the cron gets its first run: 09:00 in Berlin
            nine = start + timedelta(days=1, seconds=1)
            taken = await asyncio.gather(first.run_once(now=nine), second.run_once(now=nine))
            pushed = taken[0] + taken[1]
            assert sorted(p.chat_id for p in pushed) == ["cron-chat", "visitor-chat"]
            assert await first.run_once(now=nine) == [] and await second.run_once(now=nine) == []
            news = await next_message(socket)

        async def moved() -> bool:
            rows = [await session_of(sessions, bot_id, chat) for chat in ("cron-chat", "visitor-chat")]
            return all(row.step_id == "news" for row in rows)

        await eventually(moved, what="both sessions in `news`")
        async with httpx.AsyncClient(base_url=app.url, timeout=20, headers=app.headers) as client:
            async def answered() -> list[dict[str, Any]] | None:
                rows = await chat_messages(client, bot_id, "visitor-chat")
                return rows if any(m["role"] == "assistant" for m in rows) else None

            visitor = await eventually(answered, what="the visitor's chat answered")
        gone = await session_of(sessions, bot_id, "gone-chat")
    assert news["content"] == "News of the day!"
    assert [m["content"] for m in visitor if m["role"] == "assistant"] == ["News of the day!"]
    assert gone.step_id == "size"
