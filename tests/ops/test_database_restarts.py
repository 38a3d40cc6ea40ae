"""PostgreSQL shutting down or starting up is an outage like any other: 503 in the
documented shape, no stack trace in the log, and requests succeed again once it serves.
Real PostgreSQL; "starting up" is what a proxy in front of it answers while told to
(the shared server itself is never restarted by a test)."""

from __future__ import annotations

import asyncio
import json
import logging
import struct

import asyncpg
import httpx
import pytest
from sqlalchemy import text
from sqlalchemy.engine import make_url

from agenthub.db import migrate
from agenthub.db.engine import create_engine
from agenthub.errors import is_unavailable
from agenthub.ops.errors import unexpected_response
from tests.channels.helpers import assert_json_error, create_agent, eventually
from tests.support.server import make_settings, running_app
from tests.support.tcp_proxy import TcpProxy

pytestmark = [pytest.mark.postgres]

STARTING_UP = "the database system is starting up"


def _error_response(code: str, message: str) -> bytes:
    """A PostgreSQL protocol ErrorResponse (FATAL) with the given SQLSTATE."""
    fields = b"".join(
        tag + value.encode() + b"\0" for tag, value in ((b"S", "FATAL"), (b"V", "FATAL"), (b"C", code), (b"M", message))
    ) + b"\0"
    return b"E" + struct.pack("!I", len(fields) + 4) + fields


class StartingUpProxy(TcpProxy):
    """Pipes to PostgreSQL; while ``starting_up`` is set, answers every new connection as a
    server that is starting up does (SQLSTATE 57P03) instead."""

    starting_up = False

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        if not self.starting_up:
            await super()._handle(reader, writer)
            return
        try:
            length = struct.unpack("!I", await reader.readexactly(4))[0]
            body = await reader.readexactly(length - 4)
            if struct.unpack("!I", body[:4])[0] == 80877103:  # SSLRequest: no TLS here
                writer.write(b"N")
                length = struct.unpack("!I", await reader.readexactly(4))[0]
                await reader.readexactly(length - 4)
            writer.write(_error_response("57P03", STARTING_UP))
            await writer.drain()
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        finally:
            writer.close()


async def _migrated(postgres_url: str) -> None:
    engine = create_engine(postgres_url, pool_size=1)
    await migrate.upgrade(engine)
    await engine.dispose()


def _traces(caplog: pytest.LogCaptureFixture) -> list[logging.LogRecord]:
    return [record for record in caplog.records if record.exc_info or record.levelno >= logging.ERROR]


async def test_a_statement_cut_off_by_a_shutting_down_server_is_503_without_a_trace(
    postgres_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    """A shutdown terminates every backend ("terminating connection due to administrator
    command"); a statement under way fails with "connection was closed in the middle of
    operation"."""
    engine = create_engine(postgres_url, pool_size=1)
    admin = make_url(postgres_url).set(drivername="postgresql", database="postgres").render_as_string(False)
    try:
        async with engine.connect() as connection:
            pid = (await connection.execute(text("SELECT pg_backend_pid()"))).scalar_one()
            statement = asyncio.create_task(connection.execute(text("SELECT pg_sleep(30)")))
            killer = await asyncpg.connect(admin)
            try:
                await eventually(
                    lambda: killer.fetchval("SELECT state = 'active' FROM pg_stat_activity WHERE pid = $1", pid),
                    what="the statement to run",
                )
                assert await killer.fetchval("SELECT pg_terminate_backend($1)", pid)
            finally:
                await killer.close()
            with pytest.raises(Exception) as cut_off:
                await statement
    finally:
        await engine.dispose()
    assert is_unavailable(cut_off.value), repr(cut_off.value)
    with caplog.at_level(logging.WARNING):
        response = unexpected_response(cut_off.value, "/api/v1/agents")
    assert response.status_code == 503
    assert json.loads(response.body)["error"]["code"] == "unavailable"
    assert _traces(caplog) == []


async def _ok(request) -> bool:  # type: ignore[no-untyped-def]
    return (await request).status_code == 200


async def test_a_server_starting_up_is_503_without_a_trace(
    postgres_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    await _migrated(postgres_url)
    real = make_url(postgres_url)
    proxy = StartingUpProxy(real.host or "127.0.0.1", real.port or 5432)
    await proxy.start()
    settings = make_settings(database_url=real.set(host="127.0.0.1", port=proxy.port).render_as_string(False))
    try:
        async with running_app(settings) as app, httpx.AsyncClient(base_url=app.url, timeout=60, headers=app.headers) as client:
            agent_id = await create_agent(client)
            await proxy.cut()  # the server went down: every pooled connection is gone
            proxy.starting_up = True
            await proxy.start()  # and it is coming back: it refuses with 57P03 for now

            caplog.clear()
            with caplog.at_level(logging.WARNING):
                for response in (
                    await client.get(f"/api/v1/agents/{agent_id}"),
                    await client.post(f"/api/v1/agents/{agent_id}/chat", json={"content": "hello"}),
                    await client.get(f"/api/v1/agents/{agent_id}"),
                ):
                    assert assert_json_error(response, 503)["code"] == "unavailable"
            assert _traces(caplog) == [], [r.getMessage() for r in _traces(caplog)]
            assert STARTING_UP not in response.text

            proxy.starting_up = False
            await eventually(
                lambda: _ok(client.get(f"/api/v1/agents/{agent_id}")), timeout=20, what="requests to succeed again"
            )
    finally:
        await proxy.cut()
