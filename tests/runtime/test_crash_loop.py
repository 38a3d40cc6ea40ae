"""An agent whose runner keeps dying: waiting clients hear about each restart and, when the
supervisor gives up, get an error at once; the agent then stays in ``error`` whatever
traffic it gets, until it is started again or its cool-down has passed. Real runner
processes, real Redis, a real OpenAI-compatible server."""

from __future__ import annotations

import asyncio
import json
import os
import re
import signal
from typing import Any

import httpx
import pytest

from agenthub.channels.fanout import FAILED_MESSAGE, RESTARTING_MESSAGE
from tests.runtime.helpers import get_status, start_runner_on, wait_status
from tests.support import ws
from tests.support.fake_openai import FakeOpenAI
from tests.support.server import make_settings, running_app

pytestmark = [pytest.mark.redis]

SLOW = "an answer that takes a good while to come out word by word"


async def _events_until(socket: Any, done: Any, *, timeout: float = 15) -> list[dict[str, Any]]:
    """Events from the socket until ``done(event)`` is true for one (included)."""
    events: list[dict[str, Any]] = []
    while not events or not done(events[-1]):
        events.append(json.loads(await asyncio.wait_for(socket.recv(), timeout)))
    return events


def _final(event: dict[str, Any]) -> bool:
    return event["type"] in ("message", "error")


async def _send_and_wait_received(socket: Any, content: str) -> dict[str, Any]:
    await socket.send(json.dumps({"type": "message", "content": content}))
    return (await _events_until(socket, lambda e: e["type"] == "status" and e["message"] == "received"))[-1]


async def _kill_runner_mid_turn(client: httpx.AsyncClient, model: FakeOpenAI, agent_id: str) -> dict[str, Any]:
    """Kill the runner once the model has been asked for the waiting message's answer."""
    asked = len(model.requests)
    status = await wait_status(client, agent_id, lambda s: s["status"] == "running" and bool(s["pid"]))
    while len(model.requests) == asked:  # no event to wait for: the model is another thread
        await asyncio.sleep(0.02)
    os.kill(status["pid"], signal.SIGKILL)
    return status


async def test_waiting_clients_hear_of_a_restart_and_at_once_of_the_agent_giving_up(
    sqlite_url: str, redis_server_url: str, redis_prefix: str
) -> None:
    settings = make_settings(
        database_url=sqlite_url, redis_url=redis_server_url, redis_prefix=redis_prefix,
        max_restart_attempts=1, agent_error_cooldown=0,
    )
    with FakeOpenAI() as model:
        for _ in range(3):
            model.add_answer(SLOW, delay=0.5)
        async with running_app(settings) as app, httpx.AsyncClient(base_url=app.url, timeout=60, headers=app.headers) as client:
            await start_runner_on(client, "fragile", model.url)
            async with ws.connect(app.ws("/ws/agents/fragile")) as socket:
                # The runner dies mid-answer: the client is told at once, then answered.
                ack = await _send_and_wait_received(socket, "first")
                await _kill_runner_mid_turn(client, model, "fragile")
                events = await _events_until(socket, lambda e: e["type"] == "status")
                assert events[-1]["message"] == RESTARTING_MESSAGE, events
                assert (events[-1]["chat_id"], events[-1]["reply_to"]) == (ack["chat_id"], ack["message_id"])
                events = await _events_until(socket, _final, timeout=30)
                assert events[-1]["type"] == "message", events
                status = await get_status(client, "fragile")
                assert status["restart_count"] == 1
                assert status["restarts_reset_after"] == settings.restarts_reset_after

                # It dies again within RESTARTS_RESET_AFTER: one more than allowed, so it
                # gives up, and the waiting client hears so now, not at the turn's timeout.
                await _send_and_wait_received(socket, "second")
                await _kill_runner_mid_turn(client, model, "fragile")
                events = await _events_until(socket, _final, timeout=5)
                assert events[-1]["type"] == "error" and events[-1]["message"] == FAILED_MESSAGE, events
                failed = await wait_status(client, "fragile", lambda s: s["status"] == "error")
                assert "gave up after 1 restarts in a row" in failed["error"]

                # Traffic does not bring a crash loop back: the sender is told what to do.
                await socket.send(json.dumps({"type": "message", "content": "hello?"}))
                refused = await _events_until(socket, _final)
                assert refused[-1]["type"] == "error"
                assert "/api/v1/agents/fragile/start" in refused[-1]["message"], refused
                sse = await client.post("/api/v1/agents/fragile/chat", json={"content": "and over HTTP?"})
                assert sse.status_code == 409, sse.text
                assert sse.json()["error"]["code"] == "agent_failed"
                assert (await get_status(client, "fragile"))["status"] == "error"
                assert "fragile" not in app.app.state.supervisor.managed

                # Started again: a fresh count, and the kept message is answered.
                started = await client.post("/api/v1/agents/fragile/start")
                assert started.status_code == 200, started.text
                assert started.json()["restart_count"] == 0
                await wait_status(client, "fragile", lambda s: s["status"] == "running" and bool(s["pid"]))


async def test_after_its_cool_down_a_message_starts_a_failed_agent_again(
    sqlite_url: str, redis_server_url: str, redis_prefix: str
) -> None:
    settings = make_settings(
        database_url=sqlite_url, redis_url=redis_server_url, redis_prefix=redis_prefix,
        max_restart_attempts=0, agent_error_cooldown=1.0,
    )
    with FakeOpenAI() as model:
        async with running_app(settings) as app, httpx.AsyncClient(base_url=app.url, timeout=60, headers=app.headers) as client:
            first = await start_runner_on(client, "cooled", model.url)
            os.kill(first["pid"], signal.SIGKILL)
            failed = await wait_status(client, "cooled", lambda s: s["status"] == "error")
            assert failed["restart_count"] == 0

            refused = await client.post("/api/v1/agents/cooled/chat", json={"content": "now?"})
            assert refused.status_code == 409 and "messages start it again from" in refused.json()["error"]["message"]
            assert re.search(r"again from \d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ\.$", refused.json()["error"]["message"])

            async def answered_after_cool_down() -> httpx.Response | None:
                response = await client.post("/api/v1/agents/cooled/chat", json={"content": "now?"})
                return response if response.status_code == 200 else None

            # No event marks the end of a cool-down: poll with a deadline.
            deadline = asyncio.get_running_loop().time() + 15
            while (response := await answered_after_cool_down()) is None:
                assert asyncio.get_running_loop().time() < deadline, "the cool-down never ended"
                await asyncio.sleep(0.2)
            assert "event: message" in response.text and "echo: now?" in response.text


async def test_restarts_in_a_row_are_forgotten_after_a_stable_run(
    sqlite_url: str, redis_server_url: str, redis_prefix: str
) -> None:
    settings = make_settings(
        database_url=sqlite_url, redis_url=redis_server_url, redis_prefix=redis_prefix,
        max_restart_attempts=1, restarts_reset_after=1.0,
    )
    with FakeOpenAI() as model:
        async with running_app(settings) as app, httpx.AsyncClient(base_url=app.url, timeout=60, headers=app.headers) as client:
            first = await start_runner_on(client, "steady", model.url)
            os.kill(first["pid"], signal.SIGKILL)
            second = await wait_status(
                client, "steady", lambda s: s["status"] == "running" and bool(s["pid"]) and s["pid"] != first["pid"]
            )
            assert second["restart_count"] == 1
            # Ran RESTARTS_RESET_AFTER without a failure: the count is 0 again ...
            await wait_status(client, "steady", lambda s: s["restart_count"] == 0, what="the count to reset")
            # ... so one more crash is one restart in a row, not one too many.
            os.kill(second["pid"], signal.SIGKILL)
            third = await wait_status(
                client, "steady", lambda s: s["status"] in ("running", "error") and s["pid"] != second["pid"]
                and (s["status"] == "error" or bool(s["pid"])),
            )
            assert third["status"] == "running" and third["restart_count"] == 1, third
