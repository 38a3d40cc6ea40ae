"""A bot's crons over REST (``/api/v1/bots/{bot_id}/crons``), on SQLite and PostgreSQL:
made, listed, read, changed and deleted with their next run shown and computed again on a
change; bad input is a 422 naming the field; export and import carry them; and a cron made
over REST runs its step for an open session, whose WebSocket gets the step's message (the
scheduler's look is made with a controlled clock)."""

from __future__ import annotations

import asyncio
import json
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import httpx

from agenthub.db.base import utcnow
from agenthub.scheduler.scenario_timers import ScenarioTimers
from tests.agents.helpers import assert_error, client_for
from tests.scenarios.helpers import equal, go, ws_turn
from tests.support.ws import connect

BOT: dict[str, Any] = {
    "name": "News", "first_step": "hello",
    "steps": [
        {"key": "hello", "message": {"text": "Hi!"}, "connection_groups": [{"connections": [go("hello")]}]},
        {"key": "news", "message": {"text": "News of the day!"},
         "connection_groups": [{"connections": [go("hello", equal("ok"))]}]},
    ],
}


async def _imported(client: httpx.AsyncClient, document: dict[str, Any]) -> tuple[str, dict[str, str]]:
    """The bot made from ``document`` and its steps' ids by key."""
    created = await client.post("/api/v1/bots/import", json=document)
    assert created.status_code == 201, created.text
    bot_id = created.json()["id"]
    steps = (await client.get("/api/v1/steps", params={"bot_id": bot_id})).json()["items"]
    return bot_id, {step["key"]: step["id"] for step in steps}


def _at(value: str) -> datetime:
    return datetime.fromisoformat(value)


async def test_crons_are_made_read_changed_and_deleted(database_url: str) -> None:
    async with client_for(database_url) as (_app, client):
        bot_id, steps = await _imported(client, BOT)
        crons = f"/api/v1/bots/{bot_id}/crons"
        assert (await client.get(crons)).json() == {"items": [], "total": 0}

        made = await client.post(crons, json={"cron": "0  9 * * *", "timezone": "Europe/Berlin", "step_id": steps["news"]})
        assert made.status_code == 201, made.text
        cron = made.json()
        assert (cron["cron"], cron["timezone"], cron["step_id"], cron["enabled"]) == (
            "0 9 * * *", "Europe/Berlin", steps["news"], True)
        berlin = _at(cron["next_run_at"]).astimezone(ZoneInfo("Europe/Berlin"))
        assert (berlin.hour, berlin.minute) == (9, 0) and _at(cron["next_run_at"]) > utcnow()
        assert _at(cron["next_run_at"]) - utcnow() <= timedelta(days=1)
        assert (await client.get(f"{crons}/{cron['id']}")).json() == cron
        assert (await client.get(crons)).json() == {"items": [cron], "total": 1}

        moved = await client.patch(f"{crons}/{cron['id']}", json={"timezone": "America/New_York"})
        assert moved.status_code == 200, moved.text
        new_york = _at(moved.json()["next_run_at"]).astimezone(ZoneInfo("America/New_York"))
        assert (new_york.hour, new_york.minute) == (9, 0)
        assert moved.json()["next_run_at"] != cron["next_run_at"]
        paused = (await client.patch(f"{crons}/{cron['id']}", json={"enabled": False})).json()
        assert paused["enabled"] is False and paused["next_run_at"] is None
        resumed = (await client.patch(f"{crons}/{cron['id']}", json={"enabled": True, "cron": "30 7 * * 1"})).json()
        local = _at(resumed["next_run_at"]).astimezone(ZoneInfo("America/New_York"))
        assert (local.weekday(), local.hour, local.minute) == (0, 7, 30)
        other = (await client.patch(f"{crons}/{cron['id']}", json={"step_id": steps["hello"]})).json()
        assert other["step_id"] == steps["hello"] and other["next_run_at"] == resumed["next_run_at"]

        exported = (await client.get(f"/api/v1/bots/{bot_id}/export")).json()
        assert exported["crons"] == [{"cron": "30 7 * * 1", "timezone": "America/New_York", "step": "hello"}]

        deleted = await client.delete(f"{crons}/{cron['id']}")
        assert deleted.status_code == 204
        assert_error(await client.get(f"{crons}/{cron['id']}"), 404)
        assert_error(await client.delete(f"{crons}/{cron['id']}"), 404)
        assert (await client.get(crons)).json() == {"items": [], "total": 0}
        assert "crons" not in (await client.get(f"/api/v1/bots/{bot_id}/export")).json()


def _field(response: httpx.Response) -> str:
    return str(assert_error(response, 422)["details"][0]["field"])


async def test_bad_crons_are_refused_naming_the_field(database_url: str) -> None:
    async with client_for(database_url) as (_app, client):
        bot_id, steps = await _imported(client, BOT)
        other_id, other_steps = await _imported(client, {**BOT, "name": "Other"})
        crons = f"/api/v1/bots/{bot_id}/crons"
        good = {"cron": "0 9 * * *", "step_id": steps["news"]}
        assert _field(await client.post(crons, json={**good, "cron": "every day"})) == "cron"
        assert _field(await client.post(crons, json={**good, "cron": "0 9 31 2 *"})) == "cron"
        assert _field(await client.post(crons, json={**good, "timezone": "Mars/Olympus"})) == "timezone"
        assert _field(await client.post(crons, json={**good, "step_id": other_steps["news"]})) == "step_id"
        assert _field(await client.post(crons, json={**good, "step_id": "stp_missing"})) == "step_id"
        assert _field(await client.post(crons, json={"cron": "0 9 * * *"})) == "step_id"
        assert_error(await client.post(crons, json={**good, "colour": "red"}), 422)
        assert_error(await client.post("/api/v1/bots/bot-missing/crons", json=good), 404)
        assert (await client.get(crons)).json()["total"] == 0

        cron = (await client.post(crons, json=good)).json()
        assert _field(await client.patch(f"{crons}/{cron['id']}", json={"cron": "61 * * * *"})) == "cron"
        assert _field(await client.patch(f"{crons}/{cron['id']}", json={"timezone": "Nowhere"})) == "timezone"
        assert _field(await client.patch(f"{crons}/{cron['id']}", json={"step_id": other_steps["hello"]})) == "step_id"
        assert_error(await client.get(f"/api/v1/bots/{other_id}/crons/{cron['id']}"), 404)  # not that bot's
        assert (await client.get(f"{crons}/{cron['id']}")).json() == cron  # nothing half-written

        refused = await client.post("/api/v1/bots/import", json={
            **BOT, "crons": [{"cron": "0 9 * * *", "timezone": "Atlantis", "step": "news"}]})
        assert _field(refused) == "crons.0.timezone"
        refused = await client.post("/api/v1/bots/import", json={**BOT, "crons": [{"cron": "x", "step": "news"}]})
        assert _field(refused) == "crons.0.cron"


async def test_export_and_import_carry_crons(database_url: str) -> None:
    document = {**BOT, "crons": [
        {"cron": "0 9 * * *", "timezone": "Europe/Berlin", "step": "news"},
        {"cron": "0 18 * * 5", "step": "hello", "enabled": False},
    ]}
    async with client_for(database_url) as (_app, client):
        bot_id, steps = await _imported(client, document)
        rows = (await client.get(f"/api/v1/bots/{bot_id}/crons")).json()["items"]
        assert [(r["step_id"], r["enabled"], r["next_run_at"] is None) for r in rows] == [
            (steps["news"], True, False), (steps["hello"], False, True)]
        exported = (await client.get(f"/api/v1/bots/{bot_id}/export")).json()
        assert exported["crons"] == [
            {"cron": "0 9 * * *", "timezone": "Europe/Berlin", "step": "news"},
            {"cron": "0 18 * * 5", "step": "hello", "enabled": False},
        ]
        again, _ = await _imported(client, exported)
        assert (await client.get(f"/api/v1/bots/{again}/export")).json() == exported


async def test_a_cron_made_over_rest_reaches_the_chat_s_websocket(database_url: str) -> None:
    async with client_for(database_url) as (app, client):
        bot_id, steps = await _imported(client, BOT)
        made = await client.post(f"/api/v1/bots/{bot_id}/crons", json={"cron": "*/5 * * * *", "step_id": steps["news"]})
        assert made.status_code == 201, made.text
        due = _at(made.json()["next_run_at"])
        timers: ScenarioTimers = app.app.state.scenario_timers
        async with connect(app.ws(f"/ws/agents/{bot_id}?chat_id=news-chat")) as socket:
            assert [e["content"] for e in await ws_turn(socket, "hi")] == ["Hi!"]
            pushed = await timers.run_once(now=due + timedelta(seconds=1))
            assert [p.chat_id for p in pushed] == ["news-chat"]
            async with asyncio.timeout(30):
                while (event := json.loads(await socket.recv()))["type"] != "message":
                    pass
            assert event["content"] == "News of the day!"
            assert [e["content"] for e in await ws_turn(socket, "ok")] == ["Hi!"]
        after = (await client.get(f"/api/v1/bots/{bot_id}/crons/{made.json()['id']}")).json()
        assert _at(after["next_run_at"]) == due + timedelta(minutes=5)
