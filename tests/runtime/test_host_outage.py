"""A host that stops while Redis is unreachable (a runner told to stop during an outage)
stops cleanly: no exception, nothing raw on the terminal; what it could not remove on the
bus expires by itself."""

from __future__ import annotations

import asyncio
import logging

import pytest

from agenthub.bus import open_bus
from agenthub.engines.registry import build_engines
from agenthub.runtime.assembly import build_host
from agenthub.runtime.host import new_host_id
from tests.runtime.helpers import create_agent_row, migrated_sessions
from tests.support.server import make_settings
from tests.support.tcp_proxy import proxied_redis

pytestmark = [pytest.mark.redis]


async def test_a_host_closes_cleanly_while_the_bus_is_unreachable(
    sqlite_url: str, redis_server_url: str, redis_prefix: str, caplog: pytest.LogCaptureFixture
) -> None:
    proxy, url = await proxied_redis(redis_server_url)
    engine, sessions = await migrated_sessions(sqlite_url)
    await create_agent_row(sessions, "outlived")
    bus = open_bus(url, prefix=redis_prefix)
    settings = make_settings(database_url=sqlite_url, redis_url=url, redis_prefix=redis_prefix)
    host = build_host(host_id=new_host_id("runner"), role="runner", bus=bus, session_factory=sessions, settings=settings,
        engines=build_engines(settings, sessions),
    )
    try:
        await host.start()
        await host.host("outlived", isolation="process")
        await proxy.cut()

        await asyncio.wait_for(host.close(grace=0.5), 20)  # raises nothing

        assert host.agents == {}
        assert any("bus is unreachable" in r.getMessage() for r in caplog.records if r.levelno == logging.WARNING)
    finally:
        await bus.close()
        await engine.dispose()
        await proxy.cut()
