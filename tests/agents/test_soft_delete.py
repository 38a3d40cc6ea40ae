"""Deleted agents as a user and an operator see them, on SQLite and PostgreSQL: hidden from
every API at once, their id kept for DELETED_RETENTION_DAYS, then purged with their chats;
their token usage stays with the organisation throughout."""

from __future__ import annotations

from datetime import timedelta

import httpx
import pytest
from sqlalchemy import func, select, update
from websockets.exceptions import ConnectionClosed

from agenthub.agents.models import Agent
from agenthub.billing.models import TokenUsageLog
from agenthub.chats.models import Chat, ChatMessage
from agenthub.db.base import utcnow
from agenthub.db.engine import session_scope
from agenthub.errors import NotFound
from agenthub.workers.purge import DeletedAgentsPurgeWorker
from tests.agents.helpers import agent_body, assert_error, client_for
from tests.channels.helpers import eventually
from tests.support.server import RunningApp
from tests.support.ws import connect


async def _answered_with_usage(client: httpx.AsyncClient, agent_id: str) -> None:
    """One chat turn, stored with its usage."""
    created = await client.post("/api/v1/agents", json=agent_body(id=agent_id))
    assert created.status_code == 201, created.text
    answered = await client.post(f"/api/v1/agents/{agent_id}/chat", json={"content": "hello", "chat_id": "c1"})
    assert answered.status_code == 200 and "event: done" in answered.text

    async def stored() -> bool:
        usage = (await client.get(f"/api/v1/agents/{agent_id}/usage")).json()
        messages = (await client.get(f"/api/v1/agents/{agent_id}/chats/c1/messages")).json()
        return usage["turns"] == 1 and len(messages["items"]) == 2

    await eventually(stored, what="the turn and its usage to be stored")


async def _rows(app: RunningApp, model: type, agent_id: str) -> int:
    async with session_scope(app.app.state.session_factory) as session:
        return int(await session.scalar(select(func.count()).select_from(model).where(model.agent_id == agent_id)))


async def _org_usage(client: httpx.AsyncClient) -> dict:
    response = await client.get("/api/v1/usage")
    assert response.status_code == 200, response.text
    return response.json()


async def test_a_deleted_agent_is_hidden_everywhere_and_its_usage_still_counts(database_url: str) -> None:
    async with client_for(database_url) as (app, client):
        await _answered_with_usage(client, "retired")
        await _answered_with_usage(client, "working")
        before = await _org_usage(client)
        assert before["turns"] == 2

        assert (await client.delete("/api/v1/agents/retired")).status_code == 204

        for method, path in [
            ("GET", "/api/v1/agents/retired"),
            ("GET", "/api/v1/agents/retired/config"),
            ("GET", "/api/v1/agents/retired/status"),
            ("GET", "/api/v1/agents/retired/usage"),
            ("GET", "/api/v1/agents/retired/chats/c1/messages"),
            ("POST", "/api/v1/agents/retired/start"),
            ("POST", "/api/v1/agents/retired/stop"),
            ("POST", "/api/v1/agents/retired/restart"),
            ("DELETE", "/api/v1/agents/retired"),
        ]:
            assert_error(await client.request(method, path), 404, "not_found")
        assert_error(await client.patch("/api/v1/agents/retired", json={"name": "Back"}), 404, "not_found")
        assert_error(await client.post("/api/v1/agents/retired/chat", json={"content": "hi"}), 404, "not_found")
        listed = (await client.get("/api/v1/agents")).json()
        assert [a["id"] for a in listed["items"]] == ["working"] and listed["total"] == 1
        with pytest.raises(ConnectionClosed) as closed:
            async with connect(app.ws("/ws/agents/retired")) as socket:
                assert (await socket.recv()) and await socket.recv()
        assert closed.value.rcvd is not None and closed.value.rcvd.code == 4404

        # Nothing can host it again, not even the runtime asked directly.
        with pytest.raises(NotFound):
            await app.app.state.supervisor.start("retired")

        # The organisation's usage still counts it, marked deleted.
        after = await _org_usage(client)
        assert after["turns"] == before["turns"] and after["input_tokens"] == before["input_tokens"]
        assert {a["agent_id"]: a["deleted"] for a in after["agents"]} == {"retired": True, "working": False}
        # Its records are kept until the purge.
        assert await _rows(app, ChatMessage, "retired") == 2


async def test_a_deleted_agents_id_is_taken_until_the_retention_has_passed(database_url: str) -> None:
    async with client_for(database_url) as (_, client):
        assert (await client.post("/api/v1/agents", json=agent_body(id="reused"))).status_code == 201
        assert (await client.delete("/api/v1/agents/reused")).status_code == 204

        refused = assert_error(
            await client.post("/api/v1/agents", json=agent_body(id="reused")), 409, "id_retained"
        )
        assert "deleted" in refused["message"]
        assert "DELETED_RETENTION_DAYS" in refused["message"]

    # With the retention passed the id is free again, purge or not.
    async with client_for(database_url, deleted_retention_days=0) as (_, client):
        again = await client.post("/api/v1/agents", json=agent_body(id="reused", name="Second life"))
        assert again.status_code == 201, again.text
        assert again.json()["config_version"] == 1
        assert (await client.get("/api/v1/agents/reused")).json()["name"] == "Second life"
        assert (await client.get("/api/v1/agents/reused/status")).json()["status"] == "stopped"


async def test_the_purge_removes_agents_past_their_retention_with_their_chats_but_keeps_usage(
    database_url: str,
) -> None:
    async with client_for(database_url) as (app, client):
        await _answered_with_usage(client, "old")
        await _answered_with_usage(client, "recent")
        await _answered_with_usage(client, "alive")
        for agent_id in ("old", "recent"):
            assert (await client.delete(f"/api/v1/agents/{agent_id}")).status_code == 204
        sessions = app.app.state.session_factory
        async with session_scope(sessions) as session:  # "old" was deleted 31 days ago
            await session.execute(
                update(Agent).where(Agent.id == "old").values(deleted_at=utcnow() - timedelta(days=31))
            )
        usage_before = await _org_usage(client)

        purge = DeletedAgentsPurgeWorker(sessions, app.settings)
        assert await purge.run_once() == ["old"]
        assert await purge.run_once() == []

        assert await _rows(app, Chat, "old") == 0 and await _rows(app, ChatMessage, "old") == 0
        assert await _rows(app, ChatMessage, "recent") == 2 and await _rows(app, ChatMessage, "alive") == 2
        async with session_scope(sessions) as session:
            assert await session.get(Agent, "old") is None
        assert await _rows(app, TokenUsageLog, "old") == 1
        assert await _org_usage(client) == usage_before
        # The purged agent's id is free again.
        assert (await client.post("/api/v1/agents", json=agent_body(id="old"))).status_code == 201


async def test_serve_purges_what_is_past_its_retention_when_it_starts(database_url: str) -> None:
    async with client_for(database_url) as (_, client):
        await _answered_with_usage(client, "expired")
        assert (await client.delete("/api/v1/agents/expired")).status_code == 204

    async with client_for(database_url, deleted_retention_days=0) as (app, client):

        async def purged() -> bool:
            return await _rows(app, ChatMessage, "expired") == 0

        await eventually(purged, what="the purge of the running server to remove the agent's chats")
        async with session_scope(app.app.state.session_factory) as session:
            assert await session.get(Agent, "expired") is None
        usage = await _org_usage(client)
        assert [(a["agent_id"], a["deleted"], a["turns"]) for a in usage["agents"]] == [("expired", True, 1)]
