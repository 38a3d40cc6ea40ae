"""Statuses written by several processes: a stop always wins over what a host reports for
the start it served, and nothing a start, a host or a stop decided is lost to another's
write. On both bus backends."""

from __future__ import annotations

import asyncio
from typing import Any

from agenthub.bus import Bus, keys
from agenthub.engines.registry import build_engines
from agenthub.runtime.assembly import build_host
from agenthub.runtime.host import new_host_id
from agenthub.runtime.status import StatusStore
from tests.runtime.helpers import create_agent_row, migrated_sessions
from tests.support.server import make_settings

AGENT = "raced"


class HeldWritesBus:
    """The real bus, except that its status compare-and-sets wait until ``release`` is
    set: a host whose write is slow (decided, not yet landed) while a stop is recorded."""

    def __init__(self, bus: Bus) -> None:
        self._bus = bus
        self.holding = asyncio.Event()
        self.release = asyncio.Event()

    def __getattr__(self, name: str) -> Any:
        return getattr(self._bus, name)

    async def compare_and_set(self, key: str, value: dict[str, Any], **kwargs: Any) -> bool:
        self.holding.set()
        await self.release.wait()
        return await self._bus.compare_and_set(key, value, **kwargs)


async def test_a_late_running_does_not_overwrite_a_stop(bus: Bus) -> None:
    supervisor = StatusStore(bus)
    started = await supervisor.begin(AGENT, placement="local")
    slow = HeldWritesBus(bus)
    host = StatusStore(slow)  # type: ignore[arg-type]

    report = asyncio.create_task(host.write(AGENT, "running", generation=started["generation"], pid=4242))
    await slow.holding.wait()  # the host read 'starting' and decided 'running'
    await supervisor.write(AGENT, "stopped")
    slow.release.set()

    assert await report is None
    final = await supervisor.get(AGENT)
    assert final["status"] == "stopped" and final["pid"] is None


async def test_a_running_for_an_older_start_does_not_win_over_a_newer_one(bus: Bus) -> None:
    statuses = StatusStore(bus)
    first = await statuses.begin(AGENT)
    await statuses.write(AGENT, "stopped")
    second = await statuses.begin(AGENT)

    assert await statuses.write(AGENT, "running", generation=first["generation"], pid=1) is None
    assert (await statuses.get(AGENT))["status"] == "starting"

    assert await statuses.write(AGENT, "running", generation=second["generation"], pid=2) is not None
    now = await statuses.get(AGENT)
    assert now["status"] == "running" and now["pid"] == 2 and now["generation"] == second["generation"]


async def test_stops_raced_against_starts_always_end_stopped(bus: Bus) -> None:
    statuses = StatusStore(bus)
    for round_ in range(30):
        began = await statuses.begin(AGENT)
        host = statuses.write(AGENT, "running", generation=began["generation"], pid=round_)
        stop = statuses.write(AGENT, "stopped")
        ordered = (host, stop) if round_ % 2 else (stop, host)
        await asyncio.gather(*ordered)
        assert (await statuses.get(AGENT))["status"] == "stopped", f"round {round_}"


async def test_a_failure_reported_after_a_stop_leaves_it_stopped(bus: Bus) -> None:
    statuses = StatusStore(bus)
    began = await statuses.begin(AGENT)
    await statuses.write(AGENT, "stopped")

    assert await statuses.write(AGENT, "error", generation=began["generation"], error="crashed") is None
    assert await statuses.write(AGENT, "starting", generation=began["generation"], error="restarting") is None
    assert (await statuses.get(AGENT))["status"] == "stopped"


async def test_a_new_start_counts_restarts_from_zero_and_keeps_them_while_restarting(bus: Bus) -> None:
    statuses = StatusStore(bus)
    began = await statuses.begin(AGENT)
    await statuses.write(AGENT, "starting", generation=began["generation"], restart_count=2)

    assert (await statuses.begin(AGENT))["restart_count"] == 2  # started again while restarting
    await statuses.write(AGENT, "stopped")
    assert (await statuses.begin(AGENT))["restart_count"] == 0


async def test_the_status_key_holds_one_versioned_value(bus: Bus) -> None:
    statuses = StatusStore(bus)
    await statuses.begin(AGENT)
    await statuses.write(AGENT, "stopped")

    stored = await bus.get(keys.agent_status(AGENT))
    assert stored is not None and stored["version"] == 2 and stored["status"] == "stopped"


async def test_a_host_that_takes_on_an_agent_whose_start_was_stopped_does_not_report_it_running(
    bus: Bus, sqlite_url: str
) -> None:
    """What a worker does with a late 'host' order: it hosts, but the stop stays."""
    engine, sessions = await migrated_sessions(sqlite_url)
    settings = make_settings(database_url=sqlite_url)
    host = build_host(
        host_id=new_host_id("local"), role="local", bus=bus, session_factory=sessions,
        settings=settings, engines=build_engines(settings, sessions, bus),
    )
    try:
        await create_agent_row(sessions, AGENT)
        supervisor = StatusStore(bus)
        await supervisor.begin(AGENT, placement="worker")
        await supervisor.write(AGENT, "stopped")

        await host.host(AGENT)

        assert (await supervisor.get(AGENT))["status"] == "stopped"
        await host.release(AGENT, grace=0)

        # The next start is reported as it should be.
        await supervisor.begin(AGENT, placement="worker")
        await host.host(AGENT)
        hosted = await supervisor.get(AGENT)
        assert hosted["status"] == "running" and hosted["host_id"] == host.host_id
    finally:
        await host.close()
        await engine.dispose()
