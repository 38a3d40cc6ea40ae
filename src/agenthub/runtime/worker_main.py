"""``agenthub worker``: hosts many ``shared`` agents as tasks and takes commands from the
supervisor on ``host:{id}:control``; with ``--queues`` it also helps drain the history and
usage queues. Start more of them (on any machine with the same Redis and database) to
spread the load."""

from __future__ import annotations

import asyncio
import logging
import signal

from agenthub.billing.counters import open_counters
from agenthub.bus import Bus, StreamRetention, keys, open_bus
from agenthub.config import Settings
from agenthub.credentials.secret_box import load_box
from agenthub.db.engine import create_engine, create_session_factory
from agenthub.engines.registry import build_engines
from agenthub.files.service import file_reader
from agenthub.files.storage import open_storage
from agenthub.llm.pricing import PriceTable
from agenthub.ops.tracing import setup_tracing
from agenthub.runtime import loop as event_loop
from agenthub.runtime.assembly import build_host
from agenthub.runtime.host import READ_BLOCK_MS, AgentHost, new_host_id
from agenthub.runtime.tasks import raise_if_cancel_requested, stop_tasks
from agenthub.scenarios.actions.asks import BusAsker
from agenthub.scenarios.actions.process import ProcessActions
from agenthub.workers.history import HistorySaverWorker
from agenthub.workers.token_usage import TokenUsageWorker

log = logging.getLogger(__name__)


class ControlListener:
    """Carries out ``host`` and ``release`` commands addressed to one host."""

    def __init__(self, bus: Bus, host: AgentHost) -> None:
        self._bus = bus
        self._host = host
        self._stream = keys.host_control(host.host_id)

    async def setup(self) -> None:
        await self._bus.ensure_group(self._stream, keys.INPUT_GROUP)

    async def run_once(self, *, block_ms: int | None = None) -> int:
        entries = await self._bus.read(
            {self._stream: ">"}, keys.INPUT_GROUP, keys.INPUT_CONSUMER, count=100, block_ms=block_ms
        )
        for entry in entries:
            command = entry.payload
            agent_id = str(command.get("agent_id", ""))
            try:
                if command.get("op") == "host":
                    await self._host.host(agent_id, isolation=command.get("isolation"))
                elif command.get("op") == "release":
                    await self._host.release(agent_id, grace=float(command.get("grace", 0)))
            except Exception:  # noqa: BLE001 - the supervisor sees no 'running' and retries
                log.exception("control command failed", extra={"agent_id": agent_id})
            await self._bus.ack(self._stream, keys.INPUT_GROUP, entry.id)
        return len(entries)

    async def run(self) -> None:
        while True:
            raise_if_cancel_requested()
            try:
                await self.run_once(block_ms=READ_BLOCK_MS)
            except asyncio.CancelledError:
                raise
            except Exception:  # noqa: BLE001 - the bus may be briefly unreachable; keep listening
                log.exception("reading control commands failed", extra={"host_id": self._host.host_id})
                await asyncio.sleep(1.0)


async def stay_registered(bus: Bus, host_id: str, interval: float) -> None:
    """Keep this worker in :data:`~agenthub.bus.keys.WORKERS_SET`: supervisors place agents
    only on workers listed there, and a Redis restarted without its data has forgotten it."""
    while True:
        raise_if_cancel_requested()
        await asyncio.sleep(interval)
        try:
            if host_id not in await bus.set_members(keys.WORKERS_SET):
                await bus.set_add(keys.WORKERS_SET, host_id)
                log.warning("worker registered again: its registration had vanished", extra={"host_id": host_id})
        except asyncio.CancelledError:
            raise
        except Exception as error:  # noqa: BLE001 - the bus may be briefly unreachable; try next time
            log.warning("worker registration check failed: %s", type(error).__name__, extra={"host_id": host_id})


async def serve_worker(settings: Settings, *, queues: bool = False) -> None:
    """Host agents until SIGTERM. Every ``agenthub serve`` stores the history and usage
    queues; with ``queues`` this worker takes part too (their consumer groups share the
    entries). Without, its event loop is all for its agents' turns: storing a batch of
    answers no longer delays the next one. Raises
    :class:`~agenthub.config.ConfigurationError` without ``REDIS_URL``."""
    prices = PriceTable.load(settings.prices_file) if queues else None  # a wrong PRICES_FILE stops it here
    retention = StreamRetention(settings.stream_retention_seconds, settings.stream_max_length)
    bus = open_bus(settings.require_redis("worker"), prefix=settings.redis_key_prefix, retention=retention)
    engine = create_engine(settings.effective_database_url)
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
        host_id=new_host_id("worker"), role="worker", bus=bus, session_factory=sessions, settings=settings,
        engines=build_engines(settings, sessions, bus, actions=scenario_actions.deps),
    )
    control = ControlListener(bus, host)
    limit = settings.queue_max_deliveries
    counters = open_counters(settings.redis_url, prefix=settings.redis_key_prefix) if queues else None
    components = [
        HistorySaverWorker(bus, sessions, max_deliveries=limit),
        TokenUsageWorker(
            bus, sessions, max_deliveries=limit, prices=prices, counters=counters
        ),
    ] if queues else []
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, stop.set)
    tracing = setup_tracing(settings)
    await control.setup()
    for component in components:
        await component.setup()
    await host.start()
    await bus.set_add(keys.WORKERS_SET, host.host_id)
    tasks = [
        asyncio.create_task(control.run()),
        asyncio.create_task(stay_registered(bus, host.host_id, settings.agent_runner_heartbeat_interval)),
        *(asyncio.create_task(c.run()) for c in components),
    ]
    event_loop.settle_garbage_collector()
    log.info("worker ready", extra={"host_id": host.host_id})
    try:
        await stop.wait()
    finally:
        await bus.set_remove(keys.WORKERS_SET, host.host_id)
        await stop_tasks(tasks)
        await host.close(grace=settings.stop_grace_period)
        await scenario_actions.close()
        await file_storage.close()
        if counters is not None:
            await counters.close()
        await bus.close()
        await engine.dispose()
        await asyncio.to_thread(tracing.shutdown)
