"""Gateways are stateless: a reply reaches the socket on whichever gateway holds it.

Two real apps share one Redis (same key prefix) and one PostgreSQL database. Gateway A
starts an ``isolation: process`` agent (a runner process); the user's socket is on
gateway B; the runner's answer reaches B."""

from __future__ import annotations

import os

import httpx

from agenthub.db import migrate
from agenthub.db.engine import create_engine
from tests.channels.helpers import (
    agent_status,
    create_agent,
    eventually,
    process_alive,
    received,
    turn,
)
from tests.runtime.helpers import SupervisorPasses
from tests.support.server import make_settings, running_app
from tests.support.sse import parse_sse
from tests.support.ws import connect


async def _migrated(url: str) -> None:
    engine = create_engine(url, pool_size=1)
    try:
        await migrate.upgrade(engine)
    finally:
        await engine.dispose()


async def test_reply_reaches_the_socket_on_the_other_gateway(
    postgres_url: str, redis_server_url: str, redis_prefix: str
) -> None:
    await _migrated(postgres_url)
    settings = make_settings(database_url=postgres_url, redis_url=redis_server_url, redis_prefix=redis_prefix)
    async with running_app(settings) as a, running_app(settings) as b:
        async with httpx.AsyncClient(base_url=a.url, timeout=30, headers=a.headers) as on_a, \
                httpx.AsyncClient(base_url=b.url, timeout=30, headers=b.headers) as on_b:
            agent_id = await create_agent(on_a, isolation="process")

            started = await on_a.post(f"/api/v1/agents/{agent_id}/start")
            assert started.status_code == 200, started.text

            async def running() -> dict | None:
                status = await agent_status(on_b, agent_id)  # B sees what A started
                return status if status["status"] == "running" and status["pid"] else None

            status = await eventually(running, what="the runner to report running")
            assert status["pid"] != os.getpid()  # a runner process of its own
            assert status["isolation"] == "process"

            async with connect(b.ws(f"/ws/agents/{agent_id}")) as socket:
                first = await turn(socket, "hello from B")
                second = await turn(socket, "still B")
            # Already running on A's runner: B does not start it again.
            assert all(e["message"] == "received" for e in first + second if e["type"] == "status")
            assert first[-1]["type"] == "message", first
            assert first[-1]["content"] == 'You said: "hello from B". That is message 1 of this chat.'
            assert first[-1]["message_object"]["reply_to"] == received(first)["message_id"]
            assert second[-1]["content"] == 'You said: "still B". That is message 2 of this chat.'

            # SSE on B is answered by the same runner too.
            response = await on_b.post(f"/api/v1/agents/{agent_id}/chat", json={"content": "over SSE"})
            events = parse_sse(response.text)
            assert [n for n, _ in events][-3:] == ["message", "usage", "done"], events
            assert [d["message"] for n, d in events if n == "status"] == ["received"]  # no second start

            # Still the one runner: B never launched a second one.
            assert (await agent_status(on_b, agent_id))["pid"] == status["pid"]
            assert (await agent_status(on_a, agent_id))["pid"] == status["pid"]

    # Shutting the gateways down stops the runner as well.
    async def runner_gone() -> bool:
        return not process_alive(status["pid"])

    await eventually(runner_gone, timeout=15, what="the runner process to exit")


async def test_a_stop_through_the_other_gateway_stops_the_runner_for_good(
    postgres_url: str, redis_server_url: str, redis_prefix: str
) -> None:
    await _migrated(postgres_url)
    settings = make_settings(database_url=postgres_url, redis_url=redis_server_url, redis_prefix=redis_prefix)
    async with running_app(settings) as a, running_app(settings) as b:
        async with httpx.AsyncClient(base_url=a.url, timeout=30, headers=a.headers) as on_a, \
                httpx.AsyncClient(base_url=b.url, timeout=30, headers=b.headers) as on_b:
            agent_id = await create_agent(on_a, isolation="process")
            assert (await on_a.post(f"/api/v1/agents/{agent_id}/start")).status_code == 200

            async def running() -> dict | None:
                status = await agent_status(on_a, agent_id)
                return status if status["status"] == "running" and status["pid"] else None

            pid = (await eventually(running, what="the runner to report running"))["pid"]

            stopped = await on_b.post(f"/api/v1/agents/{agent_id}/stop")  # B does not own it
            assert stopped.status_code == 200 and stopped.json()["status"] == "stopped"

            await eventually(lambda: _gone(pid), what="A to stop its runner")
            # Not taken for a crash: no restart, still stopped passes of A's supervisor later.
            passes = SupervisorPasses(a.app.state.supervisor)
            for _ in range(5):
                status = await agent_status(on_a, agent_id)
                assert status["status"] == "stopped" and status["restart_count"] == 0, status
                await passes.wait(1)
            assert agent_id not in a.app.state.supervisor.managed


async def _gone(pid: int) -> bool:
    return not process_alive(pid)


async def test_a_force_stop_or_a_delete_through_the_other_gateway_is_carried_out_by_the_owner(
    postgres_url: str, redis_server_url: str, redis_prefix: str
) -> None:
    import signal

    await _migrated(postgres_url)
    settings = make_settings(
        database_url=postgres_url, redis_url=redis_server_url, redis_prefix=redis_prefix, stop_grace_period=30.0,
        deleted_retention_days=0,  # a deleted agent's id is free again at once
    )
    async with running_app(settings) as a, running_app(settings) as b:
        async with httpx.AsyncClient(base_url=a.url, timeout=30, headers=a.headers) as on_a, \
                httpx.AsyncClient(base_url=b.url, timeout=30, headers=b.headers) as on_b:
            agent_id = await create_agent(on_a, isolation="process")

            async def running() -> dict | None:
                status = await agent_status(on_a, agent_id)
                return status if status["status"] == "running" and status["pid"] else None

            assert (await on_a.post(f"/api/v1/agents/{agent_id}/start")).status_code == 200
            await eventually(running, what="the runner to report running")
            runner = a.app.state.supervisor.managed[agent_id].process

            # Forced through B: A kills its runner at once (not SIGTERM and a 30 s grace).
            assert (await on_b.post(f"/api/v1/agents/{agent_id}/stop", params={"force": "true"})).status_code == 200
            await eventually(lambda: _exited(runner), what="A to kill its runner", timeout=10)
            assert runner.exitcode == -signal.SIGKILL

            # Deleted through B: A stops it for good (no restarts of an agent that is gone),
            # and the same id created again starts from a clean status.
            assert (await on_a.post(f"/api/v1/agents/{agent_id}/start")).status_code == 200
            pid = (await eventually(running, what="the runner to report running again"))["pid"]
            assert (await on_b.delete(f"/api/v1/agents/{agent_id}")).status_code == 204
            await eventually(lambda: _gone(pid), what="A to stop the deleted agent's runner")
            await SupervisorPasses(a.app.state.supervisor).wait(3)
            assert agent_id not in a.app.state.supervisor.managed

            again = await on_b.post("/api/v1/agents", json={
                "id": agent_id, "name": "again", "settings": {"provider": "fake", "model_id": "demo"},
            })
            assert again.status_code == 201, again.text
            status = await agent_status(on_a, agent_id)
            assert status["status"] == "stopped" and status["restart_count"] == 0 and status["error"] is None


async def _exited(process) -> bool:  # type: ignore[no-untyped-def]
    return process.exitcode is not None
