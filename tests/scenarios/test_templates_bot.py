"""A bot with a template instance, driven over the WebSocket: the template's step waits for
the user's answer, the session stays inside the template across a restart of the server,
its HTTP step runs against a local server, and its outputs reach the bot's next step; a
template step's emitter moves the session within the template."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import httpx
from sqlalchemy import select

from agenthub.scenarios.models import ScenarioSession
from agenthub.scheduler.scenario_timers import ScenarioTimers
from tests.agents.helpers import migrated
from tests.runtime.helpers import migrated_sessions
from tests.scenarios.helpers import add_bot, go, ws_turn
from tests.scenarios.test_templates_run import greeter
from tests.scheduler.test_scenario_timers import imported, moves, next_message
from tests.support.server import make_settings, running_app
from tests.support.target import Target
from tests.support.ws import connect

INSTANCE = "pick-the-size-of-the-pizza-the-customer-is-ordering-today"
"""Long, so that the session's step inside the template (``<instance>/<step>``) takes more
than the 64 characters of one key."""
SIZES = {"condition": "AND", "rules": [{"field": "message.text", "operator": "in", "value": "small, large"}]}


def pizzeria(price_url: str) -> dict[str, Any]:
    size = {
        "key": "size", "name": "Ask a size", "inputs": {"type": "object", "required": ["who"]},
        "outputs": {"type": "object", "properties": {"size": {"type": "string"}}},
        "variables": {"size": "none"}, "first_step": "ask-which-size-the-customer-wants",
        "steps": [
            {"key": "ask-which-size-the-customer-wants", "message": {
                "text": "Which size, {$session.who$}?",
                "widget": {"buttons": [{"text": "Small", "value": "small"}, {"text": "Large", "value": "large"}]}},
             "connection_groups": [{"search_type": "response", "request": "price",
                                    "variables": {"size": "$.json.query.size", "price": "$.json.query.price"},
                                    "connections": [go("confirm", SIZES)]}]},
            {"key": "confirm", "is_proxy": True, "message": {"text": "A {$session.size$} one, {$session.who$}."}},
        ],
        "requests": [{"key": "price", "url": price_url + "/price?size={$message.text$}&price=12&who={$session.who$}"}],
    }
    return {
        "name": "Pizzeria", "first_step": "name",
        "steps": [
            {"key": "name", "message": {"text": "Your name?"}, "connection_groups": [{"connections": [go(INSTANCE)]}]},
            {"key": INSTANCE, "is_proxy": True, "message": {"text": "Ordering for {$message.text$}."},
             "template": {"template": "size", "inputs": {"who": "{$message.text$}"},
                          "outputs": {"size": "session.size", "price": "user.last_price"}},
             "connection_groups": [{"connections": [go("done")]}]},
            {"key": "done", "message": {"text": "Your {$session.size$} pizza ({$user.last_price$} EUR) is on its way."
                                                "{$session.who$}"}},
        ],
        "requests": [{"key": "price", "url": price_url + "/the-bot-s-own"}],  # not the template's
        "templates": [size],
    }


def texts(events: list[dict[str, Any]]) -> list[str]:
    return [event["content"] for event in events]


async def test_a_template_waits_for_the_user_across_a_restart_and_maps_its_outputs(database_url: str) -> None:
    engine, _ = await migrated_sessions(database_url)  # the server refuses an unmigrated PostgreSQL
    await engine.dispose()
    with Target() as prices:
        settings = make_settings(database_url=database_url, outbound_allowlist="127.0.0.1")
        async with running_app(settings) as app:
            sessions = app.app.state.session_factory
            bot_id = await add_bot(sessions, pizzeria(prices.url))
            async with connect(app.ws(f"/ws/agents/{bot_id}?chat_id=order")) as socket:
                asked = await ws_turn(socket, "Ann")
            async with sessions() as db:
                waiting = await db.scalar(select(ScenarioSession).where(ScenarioSession.bot_id == bot_id))
            assert waiting is not None
            assert waiting.step_id == f"{INSTANCE}/ask-which-size-the-customer-wants"
            assert [frame["instance"] for frame in waiting.frames] == [INSTANCE]
            assert waiting.variables == {"size": "none", "who": "Ann"}  # the template's own session.*

        async with running_app(settings) as app:  # a restart: the session and its frame come from the database
            async with connect(app.ws(f"/ws/agents/{bot_id}?chat_id=order")) as socket:
                answered = await ws_turn(socket, "large", button="large")
                again = await ws_turn(socket, "anything")  # `done` waits, no connection: nothing moves
            async with httpx.AsyncClient(base_url=app.url, timeout=20, headers=app.headers) as client:
                funnel = (await client.get(f"/api/v1/bots/{bot_id}/analytics")).json()["steps"]
                listed = (await client.get(f"/api/v1/bots/{bot_id}/sessions")).json()

    assert texts(asked) == ["Ordering for Ann.", "Which size, Ann?"]
    assert asked[1]["widget"] == {"buttons": [{"text": "Small", "value": "small"}, {"text": "Large", "value": "large"}]}
    assert texts(answered) == ["A large one, Ann.", "Your large pizza (12 EUR) is on its way."]
    assert texts(again) == [""]
    assert [(r["path"], r["query"]) for r in prices.requests] == [
        ("/price", {"size": "large", "price": "12", "who": "Ann"})]  # the template's request, not the bot's
    # The template's steps have their own lines in the funnel; the bot's steps count as before
    # (`name`, where the session started, was never entered: nothing to count).
    counts = {row["step_id"]: (row["entered"], row["moved_on"]) for row in funnel}
    assert counts == {
        INSTANCE: (1, 1), "done": (1, 0),
        f"{INSTANCE}/ask-which-size-the-customer-wants": (1, 1), f"{INSTANCE}/confirm": (1, 1),
    }
    session = listed["items"][0]
    assert session["step_id"] == "done" and session["variables"] == {"size": "large"}


async def test_a_template_step_s_emitter_moves_the_session_within_the_template(database_url: str) -> None:
    await migrated(database_url)
    async with running_app(make_settings(database_url=database_url)) as app:
        sessions = app.app.state.session_factory
        timers: ScenarioTimers = app.app.state.scenario_timers
        bot_id = await imported(app, greeter())  # imported: its template comes with it
        async with connect(app.ws(f"/ws/agents/{bot_id}?chat_id=remind")) as socket:
            asked = await ws_turn(socket, "Ann")
            [scheduled] = await moves(sessions, bot_id)
            await timers.run_once(now=scheduled.due_at + timedelta(seconds=1))
            reminded = await next_message(socket)
            ended = await ws_turn(socket, "bad")  # `remind` takes only "good": the template ends
        async with sessions() as db:
            row = await db.scalar(select(ScenarioSession).where(ScenarioSession.bot_id == bot_id))

    assert texts(asked) == ["Let me greet you.", "Hello Ann! How are you?"]
    assert (scheduled.from_step_id, scheduled.next_step_id) == ("greeting/ask", "greeting/remind")
    assert reminded["content"] == "Still there, Ann?"
    assert texts(ended) == ["Back:  () who= mine="]
    assert row is not None and row.step_id == "after" and row.frames == []
