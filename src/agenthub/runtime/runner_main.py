"""A runner process: hosts one agent until SIGTERM (or until its supervisor is gone).

Started by the supervisor through a warm fork server (this module is preloaded there, so
LangGraph and the model clients are already imported) or by hand with
``agenthub runner --agent-id ID``.
"""

from __future__ import annotations

import asyncio
import logging
import os
import signal

# Imported here so the fork server has them loaded before any runner forks: a runner then
# starts without importing anything heavy (the Redis client alone takes ~0.3 s).
import langchain_openai  # noqa: F401
import langgraph.graph  # noqa: F401
from setproctitle import setproctitle

import agenthub.bus.redis  # noqa: F401
from agenthub.bus import StreamRetention, open_bus
from agenthub.config import Settings
from agenthub.credentials.secret_box import load_box
from agenthub.db.engine import create_engine, create_session_factory
from agenthub.engines.registry import build_engines
from agenthub.files.service import file_reader
from agenthub.files.storage import open_storage
from agenthub.ops.logging import configure_logging
from agenthub.ops.tracing import setup_tracing
from agenthub.runtime import loop as event_loop
from agenthub.runtime.assembly import build_host
from agenthub.runtime.host import new_host_id
from agenthub.scenarios.actions.asks import BusAsker
from agenthub.scenarios.actions.process import ProcessActions

log = logging.getLogger(__name__)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


async def serve_runner(
    settings: Settings, agent_id: str, *, host_id: str | None = None, supervisor_pid: int | None = None
) -> int:
    """Host ``agent_id`` until SIGTERM. Raises :class:`~agenthub.config.ConfigurationError`
    without ``REDIS_URL`` and :class:`~agenthub.errors.NotFound` for an unknown agent."""
    tracing = setup_tracing(settings)  # here, after the fork: the span exporter's thread is this process's
    retention = StreamRetention(settings.stream_retention_seconds, settings.stream_max_length)
    bus = open_bus(settings.require_redis("runner"), prefix=settings.redis_key_prefix, retention=retention)
    engine = create_engine(settings.effective_database_url, pool_size=2)
    sessions = create_session_factory(engine)
    # Scenario bots hosted here: a sandbox started on their first code step, LLM steps asked
    # through a gateway (agenthub.channels.scenario_ask.AskRelay).
    file_storage = open_storage(settings)  # request files of scenario bots
    scenario_actions = ProcessActions(
        settings, sessions, box=load_box(settings, create=False),
        ask_agent=BusAsker(bus, timeout=settings.turn_timeout + 30.0),
        read_file=file_reader(sessions, file_storage),
    )
    host = build_host(
        host_id=host_id or new_host_id("runner"),
        role="runner",
        bus=bus,
        session_factory=sessions,
        settings=settings,
        engines=build_engines(settings, sessions, bus, actions=scenario_actions.deps),
    )
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, stop.set)
    try:
        await host.start()
        await host.host(agent_id, isolation="process")
        event_loop.settle_garbage_collector()
        while not stop.is_set():
            try:
                await asyncio.wait_for(stop.wait(), settings.agent_runner_heartbeat_interval)
            except TimeoutError:
                if supervisor_pid and not _alive(supervisor_pid):
                    log.warning("supervisor is gone; runner exits", extra={"agent_id": agent_id})
                    break
        return 0
    finally:
        await host.close(grace=settings.stop_grace_period)
        await scenario_actions.close()
        await file_storage.close()
        await bus.close()
        await engine.dispose()
        await asyncio.to_thread(tracing.shutdown)


def run_child(settings: Settings, agent_id: str, host_id: str, supervisor_pid: int) -> None:
    """Target of a forked runner process."""
    setproctitle(f"agenthub runner {agent_id}")  # what `ps` shows, instead of the fork server's name
    configure_logging(settings, component=f"runner:{agent_id}")
    raise SystemExit(
        event_loop.run(serve_runner(settings, agent_id, host_id=host_id, supervisor_pid=supervisor_pid))
    )
