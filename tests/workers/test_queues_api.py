"""Dead letters as an operator sees them: /health, /metrics and the queues API of a running
app, on the in-process bus and on Redis. The database refuses one answer (a trigger), as
a database may refuse any entry."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy import text

from agenthub.db.engine import create_engine
from tests.agents.helpers import agent_body, assert_error, chat, client_for
from tests.runtime.helpers import eventually

REFUSE_POISON = """
CREATE TRIGGER refuse_poison BEFORE INSERT ON chat_messages
WHEN NEW.role = 'assistant' AND NEW.content LIKE '%poison%'
BEGIN SELECT RAISE(ABORT, 'refused: poison'); END
"""


@pytest.fixture(params=["memory", "redis"])
def bus_settings(request: pytest.FixtureRequest) -> dict[str, Any]:
    if request.param == "memory":
        return {}
    return {
        "redis_url": request.getfixturevalue("redis_server_url"),
        "redis_prefix": request.getfixturevalue("redis_prefix"),
    }


async def sql(database_url: str, statement: str) -> None:
    engine = create_engine(database_url)
    try:
        async with engine.begin() as connection:
            await connection.execute(text(statement))
    finally:
        await engine.dispose()


async def health_queues(client: httpx.AsyncClient) -> dict[str, Any]:
    response = await client.get("/health")
    assert response.status_code == 200, response.text  # dead letters do not make it unhealthy
    return response.json()["checks"]["queues"]


async def dead_letter_gauge(client: httpx.AsyncClient) -> dict[str, float]:
    response = await client.get("/metrics")
    return {
        sample.labels["queue"]: sample.value
        for family in text_string_to_metric_families(response.text)
        for sample in family.samples
        if sample.name == "agenthub_dead_letters"
    }


async def history(client: httpx.AsyncClient, agent_id: str, chat_id: str) -> list[str]:
    response = await client.get(f"/api/v1/agents/{agent_id}/chats/{chat_id}/messages")
    assert response.status_code == 200, response.text
    return [message["content"] for message in response.json()["items"]]


async def test_a_refused_answer_is_a_dead_letter_shown_and_retried(sqlite_url: str, bus_settings: dict) -> None:
    async with client_for(sqlite_url, queue_max_deliveries=2, **bus_settings) as (_, client):
        assert await health_queues(client) == {
            "ok": True,
            "dead_letters": {"history_queue": 0, "token_usage_queue": 0},
            "pending": {"history_queue": 0, "token_usage_queue": 0},
        }
        assert await dead_letter_gauge(client) == {"history_queue": 0, "token_usage_queue": 0}
        await client.post("/api/v1/agents", json=agent_body(id="echo"))
        await sql(sqlite_url, REFUSE_POISON)

        poisoned = await chat(client, "echo", "poison")
        fine = await chat(client, "echo", "fine", chat_id="other")

        # The refused answer moves to the dead letters; the other answer is stored meanwhile.
        await eventually(lambda: history(client, "echo", fine["chat_id"]), what="the good answer stored")
        queues = await eventually(
            lambda: _with_dead_letters(client), what="the refused answer in the dead letters"
        )
        assert queues["dead_letters"] == {"history_queue": 1, "token_usage_queue": 0}
        assert await dead_letter_gauge(client) == {"history_queue": 1, "token_usage_queue": 0}
        assert await history(client, "echo", poisoned["chat_id"]) == ["poison"]

        listed = (await client.get("/api/v1/queues/dead-letters", params={"queue": "history_queue"})).json()
        [group] = listed["queues"]
        [letter] = group["items"]
        assert group["count"] == 1
        assert letter["deliveries"] == 2
        assert "refused: poison" in letter["error"]
        assert letter["payload"]["reply_to"] == poisoned["reply_to"]
        assert letter["failed_at"].endswith(("Z", "+00:00"))

        await sql(sqlite_url, "DROP TRIGGER refuse_poison")
        retried = await client.post("/api/v1/queues/dead-letters/retry")
        assert retried.json() == {"retried": {"history_queue": 1, "token_usage_queue": 0}}

        stored = await eventually(
            lambda: _two(history(client, "echo", poisoned["chat_id"])), what="the retried answer stored"
        )
        assert stored[1] == poisoned["content"]
        assert (await health_queues(client))["dead_letters"] == {"history_queue": 0, "token_usage_queue": 0}


async def _with_dead_letters(client: httpx.AsyncClient) -> dict[str, Any] | None:
    queues = await health_queues(client)
    return queues if queues["dead_letters"]["history_queue"] else None


async def _two(messages) -> list[str] | None:  # type: ignore[no-untyped-def]
    found = await messages
    return found if len(found) == 2 else None


async def test_an_unknown_queue_is_a_json_404(sqlite_url: str) -> None:
    async with client_for(sqlite_url) as (_, client):
        for response in (
            await client.get("/api/v1/queues/dead-letters", params={"queue": "nope"}),
            await client.post("/api/v1/queues/dead-letters/retry", params={"queue": "nope"}),
        ):
            error = assert_error(response, 404, "queue_not_found")
            assert "history_queue" in error["message"]
        assert_error(await client.get("/api/v1/queues/dead-letters", params={"limit": 0}), 422)
