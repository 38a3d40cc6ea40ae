"""Operations endpoints: /health, /metrics, and the JSON answer to an unexpected error."""

from __future__ import annotations

import asyncio
import logging

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

from tests.agents.helpers import agent_body, assert_error, chat, client_for

METRIC_NAMES = (
    "agenthub_messages_total",
    "agenthub_turn_latency_seconds_bucket",
    "agenthub_running_agents",
    "agenthub_agent_restarts_total",
)


async def _samples(client: httpx.AsyncClient) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    response = await client.get("/metrics")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain")
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(response.text)
        for sample in family.samples
    }


def _value(samples, name: str, **labels: str) -> float:  # type: ignore[no-untyped-def]
    return samples.get((name, tuple(sorted(labels.items()))), 0.0)


async def test_health_reports_every_part_ok(database_url: str) -> None:
    async with client_for(database_url) as (_, client):
        response = await client.get("/health")
        assert response.status_code == 200
        body = response.json()
        assert body["status"] == "ok"
        checks = body["checks"]
        assert checks["database"] == {"ok": True, "backend": "sqlite" if "sqlite" in database_url else "postgresql"}
        assert checks["bus"] == {"ok": True, "backend": "memory"}
        assert checks["supervisor"]["ok"] is True
        assert checks["supervisor"]["managed_agents"] == 0


async def test_health_names_redis_when_it_is_the_bus(sqlite_url: str, redis_server_url: str, redis_prefix: str) -> None:
    async with client_for(sqlite_url, redis_url=redis_server_url, redis_prefix=redis_prefix) as (_, client):
        response = await client.get("/health")
        assert response.status_code == 200
        assert response.json()["checks"]["bus"] == {"ok": True, "backend": "redis"}


async def test_health_is_degraded_when_the_supervisor_has_stopped(sqlite_url: str) -> None:
    async with client_for(sqlite_url) as (app, client):
        # The supervisor loop dies (as an unexpected crash would end it).
        task = app.app.state.supervisor_task
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
        response = await client.get("/health")
        assert response.status_code == 503
        body = response.json()
        assert body["status"] == "degraded"
        assert body["checks"]["supervisor"]["ok"] is False
        assert body["checks"]["database"]["ok"] is True


async def test_metrics_count_a_chat_turn(database_url: str) -> None:
    async with client_for(database_url) as (_, client):
        before_text = (await client.get("/metrics")).text
        for name in METRIC_NAMES:
            assert name in before_text
        before = await _samples(client)
        assert _value(before, "agenthub_running_agents") == 0

        await client.post("/api/v1/agents", json=agent_body(id="measured"))
        await chat(client, "measured", "count me")

        after = await _samples(client)
        assert _value(after, "agenthub_messages_total", direction="in", channel="web") == (
            _value(before, "agenthub_messages_total", direction="in", channel="web") + 1
        )
        assert _value(after, "agenthub_messages_total", direction="out", channel="web") == (
            _value(before, "agenthub_messages_total", direction="out", channel="web") + 1
        )
        assert _value(after, "agenthub_turn_latency_seconds_count") == (
            _value(before, "agenthub_turn_latency_seconds_count") + 1
        )
        assert _value(after, "agenthub_turn_latency_seconds_bucket", le="+Inf") == 1
        assert _value(after, "agenthub_turn_latency_seconds_sum") > 0
        # The agent started on demand for the message.
        assert _value(after, "agenthub_running_agents") == 1
        assert _value(after, "agenthub_agent_restarts_total") == 0

        await client.post("/api/v1/agents/measured/stop")
        assert _value(await _samples(client), "agenthub_running_agents") == 0


async def test_an_unexpected_error_is_a_json_500_without_a_trace(sqlite_url: str) -> None:
    async with client_for(sqlite_url) as (app, client):

        async def explode() -> None:
            raise RuntimeError("secret internals: password=hunter2")

        app.app.add_api_route("/test-only/explode", explode, methods=["GET"])

        response = await client.get("/test-only/explode")
        error = assert_error(response, 500, "internal")
        assert "hunter2" not in response.text
        assert "RuntimeError" not in response.text
        assert error["message"] == "internal error"

        # The server keeps answering.
        assert (await client.get("/health")).status_code == 200


async def test_the_docs_pages_need_no_internet(sqlite_url: str) -> None:
    """/docs and /redoc load their scripts and styles from AgentHub itself, not a CDN."""
    import re

    async with client_for(sqlite_url) as (app, client):
        for page in ("/docs", "/redoc"):
            response = await client.get(page)
            assert response.status_code == 200
            assets = re.findall(r'(?:src|href)="([^"]+\.(?:js|css|png))"', response.text)
            assert assets, response.text
            for asset in assets:
                assert asset.startswith("/"), f"{page} loads {asset} from elsewhere"
                loaded = await client.get(asset)
                assert loaded.status_code == 200 and len(loaded.content) > 1000, asset
            assert "/openapi.json" in response.text
        assert (await client.get("/openapi.json")).json()["info"]["title"] == "AgentHub"


async def test_unexpected_errors_are_logged_once_and_an_outage_without_a_trace(
    sqlite_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    from redis.exceptions import ConnectionError as RedisConnectionError
    from sqlalchemy.exc import IntegrityError

    async with client_for(sqlite_url) as (app, client):

        async def broken_query() -> None:
            raise IntegrityError("INSERT INTO t VALUES (?)", ("secret-value",), Exception("boom"))

        async def outage() -> None:
            raise RedisConnectionError("Connection refused")

        app.app.add_api_route("/test-only/query", broken_query, methods=["GET"])
        app.app.add_api_route("/test-only/outage", outage, methods=["GET"])
        caplog.set_level(logging.INFO)
        server_log = logging.getLogger("uvicorn")  # does not propagate to the root logger
        server_log.addHandler(caplog.handler)
        try:
            await _check_logged_once(client, caplog)
        finally:
            server_log.removeHandler(caplog.handler)


async def _check_logged_once(client: httpx.AsyncClient, caplog: pytest.LogCaptureFixture) -> None:
    assert_error(await client.get("/test-only/query"), 500, "internal")
    traces = [r for r in caplog.records if r.exc_info]
    assert [r.getMessage() for r in traces] == ["unhandled error"], "one trace, from AgentHub"
    caplog.clear()

    assert_error(await client.get("/test-only/outage"), 503, "unavailable")
    assert [r for r in caplog.records if r.exc_info or r.levelno >= logging.ERROR] == []
    assert any("unreachable" in r.getMessage() for r in caplog.records)


async def test_a_failed_statement_logs_no_values(sqlite_url: str) -> None:
    """SQLAlchemy puts a failed statement's parameters in its error text, and so in a log
    line: the engine is made to leave them out."""
    from sqlalchemy import text

    from agenthub.db.engine import create_engine

    engine = create_engine(sqlite_url)
    try:
        async with engine.connect() as connection:
            with pytest.raises(Exception) as failed:
                await connection.execute(text("SELECT * FROM no_such_table WHERE x = :x"), {"x": "hunter2"})
        assert "hunter2" not in str(failed.value)
        assert "hidden due to hide_parameters" in str(failed.value)
    finally:
        await engine.dispose()
