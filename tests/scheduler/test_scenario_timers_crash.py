"""Delayed moves and crons fire once as the user sees it, also when the replica that took
them dies: a take whose pushes never happened is taken again once its lease is over and
its message sent once; a take that died after pushing some of its messages is taken again
and sends only the others. On SQLite and PostgreSQL, with a controlled clock."""

from __future__ import annotations

import uuid
from datetime import timedelta
from typing import Any

import httpx
from sqlalchemy import select

from agenthub.db.base import utcnow
from agenthub.db.engine import session_scope
from agenthub.scenarios.models import BotCron, ScenarioSession
from agenthub.scheduler.scenario_timers import LEASE, ScenarioTimers
from tests.agents.helpers import migrated
from tests.channels.helpers import chat_messages
from tests.runtime.helpers import eventually
from tests.scenarios.helpers import ws_turn
from tests.scheduler.test_scenario_timers import imported, moves, next_message, reminder_bot, session_of
from tests.support.server import RunningApp, make_settings, running_app
from tests.support.ws import connect


def _timers(app: RunningApp, owner: str) -> ScenarioTimers:
    state = app.app.state
    return ScenarioTimers(sessions=state.session_factory, gateway=state.gateway, settings=app.settings, owner=owner)


async def _answers(app: RunningApp, bot_id: str, chat_id: str, last: str) -> list[str]:
    """The bot's answers in the chat's history, once the one saying ``last`` is stored."""
    async with httpx.AsyncClient(base_url=app.url, timeout=20, headers=app.headers) as client:
        async def stored() -> list[str] | None:
            rows = await chat_messages(client, bot_id, chat_id)
            said = [m["content"] for m in rows if m["role"] == "assistant"]
            return said if said and said[-1] == last else None

        return list(await eventually(stored, what=f"{last!r} in the history"))


async def test_a_move_taken_by_a_replica_that_died_is_sent_once_after_its_lease(database_url: str) -> None:
    await migrated(database_url)
    async with running_app(make_settings(database_url=database_url)) as app:
        sessions = app.app.state.session_factory
        bot_id = await imported(app, reminder_bot(60))
        dead, survivor = _timers(app, "dead"), _timers(app, "survivor")
        async with connect(app.ws(f"/ws/agents/{bot_id}?chat_id=crash-chat")) as socket:
            await ws_turn(socket, "hello")
            [move] = await moves(sessions, bot_id)
            due = move.due_at + timedelta(seconds=1)
            [(taken_id, push, _)] = await dead.take_moves(due)  # ... and dies before pushing
            assert taken_id == move.id and push is not None
            assert await survivor.run_once(now=due) == []  # still the dead replica's
            [sent] = await survivor.run_once(now=due + LEASE + timedelta(seconds=1))
            assert sent.push_id == move.id
            assert (await next_message(socket))["content"] == "Still there? Say pizza."
            assert await survivor.run_once(now=due + 3 * LEASE) == []
            # nothing else came before the answer to the next message
            assert [e["content"] for e in await ws_turn(socket, "pizza")] == ["Which size?"]
        said = await _answers(app, bot_id, "crash-chat", "Which size?")
        [fired] = await moves(sessions, bot_id)
    assert said == ["Hi! Say pizza.", "Still there? Say pizza.", "Which size?"]
    assert fired.done_at is not None and fired.lease_owner is None


async def test_a_cron_run_cut_short_by_a_crash_sends_each_session_its_message_once(database_url: str) -> None:
    await migrated(database_url)
    async with running_app(make_settings(database_url=database_url)) as app:
        sessions = app.app.state.session_factory
        bot_id = await imported(app, reminder_bot(3600))
        dead, survivor = _timers(app, "dead"), _timers(app, "survivor")
        async with connect(app.ws(f"/ws/agents/{bot_id}?chat_id=cron-crash")) as socket:
            await ws_turn(socket, "pizza")
            owner = await session_of(sessions, bot_id, "cron-crash")
            async with session_scope(sessions) as db:
                db.add(ScenarioSession(
                    id=uuid.uuid4().hex, org_id=owner.org_id, bot_id=bot_id, user_key="web:visitor", channel="web",
                    chat_id="visitor-crash", step_id="size", variables={}, frames=[],
                ))
            await dead.run_once(now=utcnow())  # the cron's first run is set: 09:00 in Berlin
            async with sessions() as db:
                cron = await db.scalar(select(BotCron).where(BotCron.bot_id == bot_id))
            assert cron is not None and cron.next_run_at is not None
            nine = cron.next_run_at + timedelta(seconds=1)
            [run] = await dead.take_crons(nine)
            first = next(p for p in run.pushes if p.chat_id == "cron-crash")
            assert await dead._push(first, []) is True  # one message pushed, then the replica dies
            assert (await next_message(socket))["content"] == "News of the day!"

            retaken = await survivor.run_once(now=nine + LEASE + timedelta(seconds=1))
            assert [p.chat_id for p in retaken] == ["visitor-crash"]  # not the one pushed already
            assert [e["content"] for e in await ws_turn(socket, "hi")] == ["Hi! Say pizza."]
        mine = await _answers(app, bot_id, "cron-crash", "Hi! Say pizza.")
        visitor = await _answers(app, bot_id, "visitor-crash", "News of the day!")
        async with sessions() as db:
            after: Any = await db.scalar(select(BotCron).where(BotCron.id == cron.id))
    assert mine == ["Which size?", "News of the day!", "Hi! Say pizza."]
    assert visitor == ["News of the day!"]
    assert after.next_run_at > cron.next_run_at and after.lease_owner is None
