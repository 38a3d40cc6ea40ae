"""A Telegram bot in a process of its own: what AgentHub does on Redis (in production),
where each running bot is a child of the ``serve`` process that supervises it
(:mod:`.service`), forked from the runners' warm fork server
(:class:`~agenthub.runtime.launcher.ProcessLauncher`).

The child opens the bus (Redis) and the database from the settings and builds the
:class:`~agenthub.channels.gateway.Gateway` the bot's :class:`~.handler.UpdateHandler` talks
through. It supervises no agent: an agent that is not running is asked of the serve
processes on the bus (:class:`BusStarter`, read by :class:`~.starts.StartRelay`).

It writes the bot's status itself once Telegram answered (``running``, with its ``pid``),
or why it failed (``error``) before it exits: with :data:`PERMANENT_EXIT` when a restart
would not mend it (a token Telegram refuses). SIGTERM stops it (its updates being answered
are cancelled, polling's taken updates confirmed); it also exits when its parent is gone.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import signal
import time
from collections.abc import Callable
from dataclasses import dataclass

from setproctitle import setproctitle
from telegram.error import Forbidden as TelegramForbidden
from telegram.error import InvalidToken

from agenthub.access.budgets import BudgetGuard
from agenthub.agents.directory import AgentDirectory
from agenthub.agents.schemas import TelegramIntegrationSettings
from agenthub.billing.counters import open_counters
from agenthub.bus import Bus, StreamRetention, keys, open_bus
from agenthub.channels.gateway import Gateway
from agenthub.channels.telegram.config import TYPE, secret_digest, status_value
from agenthub.channels.telegram.runner import TelegramIntegration, make_bot
from agenthub.config import ConfigurationError, Settings
from agenthub.db.engine import create_engine, create_session_factory
from agenthub.ops.logging import configure_logging, remember_secrets
from agenthub.ops.metrics import Metrics
from agenthub.runtime import loop as event_loop
from agenthub.runtime.launcher import ProcessLauncher, describe_exit, end_process
from agenthub.runtime.liveness import Liveness
from agenthub.runtime.status import StatusStore
from agenthub.runtime.supervisor import refuse_while_failed
from agenthub.runtime.tasks import stop_tasks
from agenthub.scenarios.live import with_live_events

log = logging.getLogger(__name__)

PERMANENT_EXIT = 3
"""The child's exit code when restarting it would not help: it stays in ``error``."""
PERMANENT = (InvalidToken, TelegramForbidden, ConfigurationError)
PARENT_CHECK = 2.0
"""Seconds between the child's looks at whether its parent is still alive."""
PROCESS_CHECK = 0.2
"""Seconds between the parent's looks at whether a bot's process is still running."""


class BotProcessFailed(Exception):
    """A bot's process exited without being asked to (``ran``: after it had been running)."""

    def __init__(self, message: str, *, ran: bool = False) -> None:
        super().__init__(message)
        self.ran = ran


class BotProcessGaveUp(ConfigurationError):
    """A bot's process exited on a failure a restart would not mend (its message is the
    process's own description of it)."""


@dataclass(frozen=True)
class BotSpec:
    """What a bot's process is given (pickled to it through the fork server)."""

    agent_id: str
    handle: str
    token: str
    config: TelegramIntegrationSettings
    owner: str
    lease: str
    parent_pid: int


class BusStarter:
    """The gateway's ``ensure_running`` in a process with no supervisor: an agent running
    (its host alive) is left alone; any other is asked of the serve processes through the
    bus stream :data:`~agenthub.bus.keys.AGENT_START_REQUESTS`. An agent that kept failing
    is refused during its cool-down, as the supervisor refuses it."""

    def __init__(self, *, bus: Bus, settings: Settings) -> None:
        self._bus = bus
        self._settings = settings
        self._statuses = StatusStore(
            bus, stale_after=settings.heartbeat_stale_after, restarts_reset_after=settings.restarts_reset_after
        )
        self._liveness = Liveness(bus=bus, settings=settings, owner_id=f"telegram-{os.getpid()}")

    async def ensure_running(self, agent_id: str) -> bool:
        status = await self._statuses.get(agent_id)
        if status.get("status") == "running" and await self._liveness.host_alive(status.get("host_id")):
            return False
        if status.get("status") == "error":
            refuse_while_failed(self._settings, agent_id, status)
        await self._bus.add(keys.AGENT_START_REQUESTS, {"agent_id": agent_id, "at": time.time()})
        return True


async def run_attempt(
    launcher: ProcessLauncher, settings: Settings, bus: Bus, spec: BotSpec, *, stopping: Callable[[], bool]
) -> None:
    """The parent's side: run the bot in a process until it exits (raises why:
    :class:`BotProcessFailed`, :class:`BotProcessGaveUp`) or this is cancelled (a stop: the
    process is ended, and in webhook mode, when ``stopping()`` says it was asked for, the
    webhook is removed)."""
    spawning = asyncio.ensure_future(asyncio.to_thread(
        launcher.spawn_target, run_child, (settings, spec), f"agenthub-telegram-{spec.agent_id}"
    ))
    try:
        process = await asyncio.shield(spawning)
    except asyncio.CancelledError:  # stopped while it was being started: it is ended at once
        await end_process(await spawning, grace=settings.stop_grace_period)
        raise
    try:
        while process.exitcode is None:
            await asyncio.sleep(PROCESS_CHECK)
    finally:
        if process.exitcode is None:
            await end_process(process, grace=settings.stop_grace_period)
            if stopping() and spec.config.mode == "webhook":
                await _delete_webhook(spec.token, settings)
    reported = await bus.get(keys.integration_status(spec.agent_id, TYPE)) or {}
    mine = reported.get("pid") == process.pid
    if process.exitcode == PERMANENT_EXIT:
        raise BotProcessGaveUp(str(reported.get("error") or "the bot can't work as configured"))
    said = f"the bot's process {describe_exit(process.exitcode)}"
    if mine and reported.get("status") == "error" and reported.get("error"):
        said = f"{reported['error']}; {said}"
    raise BotProcessFailed(said, ran=mine and (reported.get("status") == "running" or bool(reported.get("ran"))))


async def _delete_webhook(token: str, settings: Settings) -> None:
    bot = make_bot(token, settings)
    try:
        with contextlib.suppress(Exception):
            await bot.delete_webhook()
    finally:
        with contextlib.suppress(Exception):
            await bot.shutdown()


def run_child(settings: Settings, spec: BotSpec) -> None:
    """Target of a bot's forked process."""
    setproctitle(f"agenthub telegram {spec.agent_id}")
    configure_logging(settings, component=f"telegram:{spec.agent_id}")
    remember_secrets(spec.token)
    raise SystemExit(event_loop.run(serve_bot(settings, spec)))


async def serve_bot(settings: Settings, spec: BotSpec) -> int:
    """Run the bot until SIGTERM (0), or until it fails (1, or :data:`PERMANENT_EXIT`)."""
    retention = StreamRetention(settings.stream_retention_seconds, settings.stream_max_length)
    bus = open_bus(settings.require_redis("telegram bot"), prefix=settings.redis_key_prefix, retention=retention)
    engine = create_engine(settings.effective_database_url, pool_size=2)
    sessions = with_live_events(create_session_factory(engine), bus)
    counters = open_counters(settings.redis_url, prefix=settings.redis_key_prefix)
    gateway = Gateway(
        bus=bus, session_factory=sessions, engine=engine, agents=AgentDirectory(sessions),
        supervisor=BusStarter(bus=bus, settings=settings), metrics=Metrics(), settings=settings,
        budgets=BudgetGuard.from_settings(settings, sessions=sessions, counters=counters),
    )
    integration = TelegramIntegration(
        agent_id=spec.agent_id, handle=spec.handle, token=spec.token, integration=spec.config,
        settings=settings, gateway=gateway, sessions=sessions, bus=bus,
    )
    stop = asyncio.Event()
    for signum in (signal.SIGTERM, signal.SIGINT):
        asyncio.get_running_loop().add_signal_handler(signum, stop.set)
    work: asyncio.Task[None] | None = None
    stopped: asyncio.Task[bool] | None = None
    try:
        await gateway.start()
        work = asyncio.create_task(_work(bus, integration, spec), name=f"telegram:{spec.agent_id}")
        stopped = asyncio.create_task(stop.wait(), name="stop-signal")
        while not stop.is_set() and not work.done():
            await asyncio.wait([work, stopped], timeout=PARENT_CHECK, return_when=asyncio.FIRST_COMPLETED)
            if not _alive(spec.parent_pid):
                log.warning("the serve process is gone; the bot's process exits", extra={"agent_id": spec.agent_id})
                break
        if work.done() and not work.cancelled() and work.exception() is not None:
            return PERMANENT_EXIT if isinstance(work.exception(), PERMANENT) else 1
        return 0
    finally:
        await stop_tasks([work, stopped])
        await integration.cleanup(stopped=False)
        await gateway.close()
        await counters.close()
        await bus.close()
        await engine.dispose()


async def _work(bus: Bus, integration: TelegramIntegration, spec: BotSpec) -> None:
    """Set the bot up, say it runs, run it; on a failure, say why (never the token)."""
    ran = False
    key = keys.integration_status(spec.agent_id, TYPE)
    try:
        await integration.setup()
        extra = {"secret_sha256": secret_digest(integration.secret)} if integration.mode == "webhook" else {}
        await bus.set(key, status_value(
            "running", mode=integration.mode, owner=spec.owner, lease=spec.lease,
            bot_username=integration.username, pid=os.getpid(), **extra,
        ))
        ran = True
        await integration.run()
    except Exception as error:
        text = f"{type(error).__name__}: {error}" if str(error) else type(error).__name__
        await bus.set(key, status_value(
            "error", mode=integration.mode, owner=spec.owner, lease=spec.lease, pid=os.getpid(), ran=ran,
            error=text.replace(spec.token, "***"),
        ))
        raise


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True
