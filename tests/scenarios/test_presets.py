"""Presets applied through the API, the bot published and driven over the WebSocket as a
user would: ``ask`` retries on bad answers and saves a good one, IF/ELSE takes both
branches, ``switch`` picks by case, ``split`` sends sessions by its (injected) random
draws, ``delay`` moves the session after its time, ``code`` and ``integration`` save
their results and route a failure."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import httpx
from sqlalchemy import select

from agenthub.db.base import utcnow
from agenthub.scenarios.models import DelayedMove
from agenthub.scheduler.scenario_timers import ScenarioTimers
from tests.agents.helpers import migrated
from tests.scenarios.helpers import ws_turn
from tests.scenarios.preset_helpers import Scripted, engines_drawing, link, new_bot, preset, publish, step
from tests.scheduler.test_scenario_timers import next_message
from tests.support.server import make_settings, running_app
from tests.support.ws import connect


def said(events: list[dict[str, Any]]) -> list[str]:
    return [event["content"] for event in events if event["type"] == "message"]


async def session_variables(client: httpx.AsyncClient, bot_id: str) -> dict[str, Any]:
    response = await client.get(f"/api/v1/bots/{bot_id}/sessions")
    assert response.status_code == 200, response.text
    [found] = response.json()["items"]
    return dict(found["variables"])


async def _ask_and_branch(client: httpx.AsyncClient) -> tuple[str, dict[str, Any]]:
    bot_id = await new_bot(client, "Sign-up")
    hello = await step(client, bot_id, "Hi!")
    adult = await step(client, bot_id, "Welcome, {$session.email$} ({$session.age$}).")
    minor = await step(client, bot_id, "Sorry, {$session.age$} is too young.")
    branch = await preset(client, bot_id, "conditional", then_step_id=adult, else_step_id=minor, rules={
        "condition": "AND", "rules": [{"field": "session.age", "operator": "greater_or_equal", "value": 18}]})
    age = await preset(client, bot_id, "ask", question="How old are you?", kind="number", min=0, max=130,
                       variable="session.age", retry_text="A number from 0 to 130, please.",
                       next_step_id=branch["entry_step_id"])
    email = await preset(client, bot_id, "ask", question="Your e-mail?", kind="email", variable="email",
                         retry_text="That is no e-mail address.", next_step_id=age["entry_step_id"],
                         from_step_id=hello, name="E-mail")
    for answered in (adult, minor):
        await link(client, answered, age["entry_step_id"])
    await publish(client, bot_id)
    return bot_id, email


async def test_ask_retries_until_valid_saves_and_an_if_else_takes_both_branches(database_url: str) -> None:
    await migrated(database_url)
    async with running_app(make_settings(database_url=database_url)) as app:
        async with httpx.AsyncClient(base_url=app.url, timeout=30, headers=app.headers) as client:
            bot_id, email = await _ask_and_branch(client)
            steps = (await client.get("/api/v1/steps", params={"bot_id": bot_id})).json()["items"]
            async with connect(app.ws(f"/ws/agents/{bot_id}?chat_id=signup")) as socket:
                assert said(await ws_turn(socket, "hi")) == ["Your e-mail?"]
                assert said(await ws_turn(socket, "bob at example")) == ["That is no e-mail address."]
                assert said(await ws_turn(socket, "bob@example")) == ["That is no e-mail address."]
                assert said(await ws_turn(socket, "bob@example.com")) == ["How old are you?"]
                assert said(await ws_turn(socket, "forty")) == ["A number from 0 to 130, please."]
                assert said(await ws_turn(socket, "4x")) == ["A number from 0 to 130, please."]
                assert said(await ws_turn(socket, "200")) == ["A number from 0 to 130, please."]
                assert said(await ws_turn(socket, "42")) == ["Welcome, bob@example.com (42)."]
                assert said(await ws_turn(socket, "again")) == ["How old are you?"]
                assert said(await ws_turn(socket, "12")) == ["Sorry, 12 is too young."]
            variables = await session_variables(client, bot_id)
    assert variables["email"] == "bob@example.com" and variables["age"] == "12"
    assert email["preset"] == "ask" and len(email["steps"]) == 3
    assert {s["preset_id"] for s in email["steps"]} == {email["preset_id"]}
    assert [s["name"] for s in email["steps"]] == ["E-mail", "E-mail: retry", "E-mail: save"]
    assert len(email["connection_groups"]) == 4 and len(email["connections"]) == 6  # with the one from `hello`
    marked = [s["id"] for s in steps if s["preset_id"] == email["preset_id"]]
    assert marked == [s["id"] for s in email["steps"]]


async def test_choice_dates_switch_and_a_split_by_its_draws(sqlite_url: str) -> None:
    await migrated(sqlite_url)
    draws = Scripted([0.1, 0.9])  # 10 and 90 out of 100: below 30 is A, the rest B
    async with running_app(make_settings(database_url=sqlite_url), engines=engines_drawing(draws)) as app:
        async with httpx.AsyncClient(base_url=app.url, timeout=30, headers=app.headers) as client:
            bot_id = await new_bot(client, "Plans")
            start = await step(client, bot_id, "Welcome.")
            a, b = await step(client, bot_id, "Variant A"), await step(client, bot_id, "Variant B")
            basic = await step(client, bot_id, "Basic it is. When do we start?")
            done = await step(client, bot_id, "Starting {$session.start$}.")
            split = await preset(client, bot_id, "split", branches=[
                {"percent": 30, "next_step_id": a}, {"percent": 70, "next_step_id": b}])
            choose = await preset(client, bot_id, "switch", wait=True, text="Basic or pro?", case_sensitive=False,
                                  cases=[{"value": "basic", "next_step_id": basic},
                                         {"value": "pro", "next_step_id": split["entry_step_id"]}],
                                  default_step_id=start, from_step_id=start)
            when = await preset(client, bot_id, "ask", question="Pick a day (DD.MM.YYYY)", kind="date",
                                date_format="DD.MM.YYYY", variable="start", retry_text="DD.MM.YYYY please",
                                next_step_id=done)
            for back in (a, b, done):
                await link(client, back, choose["entry_step_id"])
            await link(client, basic, when["entry_step_id"])
            await publish(client, bot_id)
            async with connect(app.ws(f"/ws/agents/{bot_id}?chat_id=plans")) as socket:
                assert said(await ws_turn(socket, "hi")) == ["Basic or pro?"]
                assert said(await ws_turn(socket, "PRO")) == ["Variant A"]
                assert said(await ws_turn(socket, "ok")) == ["Basic or pro?"]
                assert said(await ws_turn(socket, "pro")) == ["Variant B"]
                variables = await session_variables(client, bot_id)
                assert said(await ws_turn(socket, "ok")) == ["Basic or pro?"]
                assert said(await ws_turn(socket, "neither")) == ["Welcome."]
                assert said(await ws_turn(socket, "hi")) == ["Basic or pro?"]
                assert said(await ws_turn(socket, "basic")) == ["Basic it is. When do we start?"]
                assert said(await ws_turn(socket, "soon")) == ["Pick a day (DD.MM.YYYY)"]
                assert said(await ws_turn(socket, "2027-01-05")) == ["DD.MM.YYYY please"]
                assert said(await ws_turn(socket, "32.01.2027")) == ["DD.MM.YYYY please"]
                assert said(await ws_turn(socket, "05.01.2027")) == ["Starting 05.01.2027."]
    assert variables["split"] == 90.0


async def test_choice_is_asked_with_buttons_and_a_pressed_button_is_saved(sqlite_url: str) -> None:
    await migrated(sqlite_url)
    async with running_app(make_settings(database_url=sqlite_url)) as app:
        async with httpx.AsyncClient(base_url=app.url, timeout=30, headers=app.headers) as client:
            bot_id = await new_bot(client, "Food")
            start = await step(client, bot_id, "")
            done = await step(client, bot_id, "One {$session.dish$} coming.")
            await preset(client, bot_id, "ask", kind="choice", question="Pizza or pasta?", variable="dish",
                         choices=[{"text": "Pizza", "value": "pizza"}, {"text": "Pasta", "value": "pasta"}],
                         retry_text="Pick one of the buttons.", next_step_id=done, from_step_id=start)
            await publish(client, bot_id)
            async with connect(app.ws(f"/ws/agents/{bot_id}?chat_id=food")) as socket:
                [asked] = await ws_turn(socket, "hi")
                assert asked["widget"]["buttons"] == [{"text": "Pizza", "value": "pizza"},
                                                      {"text": "Pasta", "value": "pasta"}]
                assert said(await ws_turn(socket, "soup")) == ["Pick one of the buttons."]
                assert said(await ws_turn(socket, "pasta", button="pasta")) == ["One pasta coming."]


async def test_a_delay_moves_the_session_after_its_time(sqlite_url: str) -> None:
    await migrated(sqlite_url)
    async with running_app(make_settings(database_url=sqlite_url)) as app:
        async with httpx.AsyncClient(base_url=app.url, timeout=30, headers=app.headers) as client:
            bot_id = await new_bot(client, "Patience")
            hello = await step(client, bot_id, "")
            later = await step(client, bot_id, "An hour later: still there?")
            await preset(client, bot_id, "delay", delay_seconds=3600, next_step_id=later,
                                 text="I'll get back to you.", from_step_id=hello)
            await publish(client, bot_id)
        timers: ScenarioTimers = app.app.state.scenario_timers
        async with connect(app.ws(f"/ws/agents/{bot_id}?chat_id=wait")) as socket:
            assert said(await ws_turn(socket, "hi")) == ["I'll get back to you."]
            async with app.app.state.session_factory() as db:
                [scheduled] = list(await db.scalars(select(DelayedMove).where(DelayedMove.bot_id == bot_id)))
            assert scheduled.next_step_id == later and scheduled.due_at - utcnow() > timedelta(minutes=59)
            await timers.run_once(now=scheduled.due_at + timedelta(seconds=1))
            assert (await next_message(socket))["content"] == "An hour later: still there?"


CODE = """
async def main(message, variables):
    return {"total": len(message["text"]) * 10}
"""


async def test_code_and_integration_steps_save_their_results_and_route_failures(sqlite_url: str) -> None:
    await migrated(sqlite_url)
    settings = make_settings(database_url=sqlite_url, sandbox_pool_size=1)
    async with running_app(settings, engines=engines_drawing(Scripted([0.5]))) as app:
        async with httpx.AsyncClient(base_url=app.url, timeout=30, headers=app.headers) as client:
            bot_id = await new_bot(client, "Actions")
            start = await step(client, bot_id, "")
            shown = await step(client, bot_id, "Total {$session.total$}, drawn {$session.drawn$}.")
            failed = await step(client, bot_id, "Failed: {$session.why$}")
            draw = await preset(client, bot_id, "integration", next_step_id=shown, error_step_id=failed,
                                error_variable="session.why", variables={"session.drawn": "$.value"},
                                integration={"name": "random.number", "config": {"low": "{$session.total$}"}})
            compute = await preset(client, bot_id, "code", code=CODE, variables={"session.total": "$.total"},
                                   next_step_id=draw["entry_step_id"], from_step_id=start)
            await link(client, shown, compute["entry_step_id"])
            await publish(client, bot_id)
            async with connect(app.ws(f"/ws/agents/{bot_id}?chat_id=acts")) as socket:
                assert said(await ws_turn(socket, "hi")) == ["Total 20, drawn 60.0."]  # 20 + (100 - 20) * 0.5
                [failure] = said(await ws_turn(socket, "a long one"))  # low 100: not below high
    assert failure.startswith("Failed: ") and "high must be above low" in failure
    assert compute["steps"][0]["is_proxy"] is True
