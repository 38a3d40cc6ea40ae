"""The Supervisor starts agents where their isolation says, watches them, restarts them with
backoff, and stops them.

Placements:
- ``local``: in this process's own host (always in the embedded mode; also ``shared``
  agents when no ``agenthub worker`` is alive);
- ``process``: a runner process per agent (``isolation: process`` with Redis);
- ``worker``: a task in the least-loaded live ``agenthub worker``.

A lease per agent makes sure one supervisor manages it even with several gateway replicas
(see :mod:`agenthub.runtime.liveness`).

Restarts in a row: each crash, stale heartbeat, failed launch or start that never reported
running counts one; the count (``restart_count`` in the status) goes back to 0 once the
agent has run ``RESTARTS_RESET_AFTER`` seconds without one, and when it is started again.
One more failure than ``MAX_RESTART_ATTEMPTS`` puts the agent in ``error``: clients waiting
for its answers are told at once, and messages do not start it again until it is started
(``/start``) or ``AGENT_ERROR_COOLDOWN`` has passed since it failed.
"""

from __future__ import annotations

import asyncio
import logging
import signal
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from multiprocessing.process import BaseProcess
from typing import Any, Literal

from agenthub.agents import service as agents_service
from agenthub.bus import Bus, keys
from agenthub.config import Settings
from agenthub.db.base import iso_seconds
from agenthub.db.engine import SessionFactory
from agenthub.errors import AgentFailed, NotFound
from agenthub.ops.metrics import Metrics
from agenthub.runtime.host import AgentHost, host_keys, new_host_id
from agenthub.runtime.launcher import ProcessLauncher, describe_exit, signal_process
from agenthub.runtime.liveness import Liveness
from agenthub.runtime.status import StatusStore, activity_key
from agenthub.runtime.tasks import raise_if_cancel_requested

log = logging.getLogger(__name__)

Placement = Literal["local", "process", "worker"]
START_TIMEOUT = 30.0
WANTED_FOR = 120.0
"""Seconds a supervisor keeps trying to start an agent whose lease another gateway holds
(one that may have just died: its heartbeat looks fresh for a few seconds more)."""
DELETED_STATUS_TTL = 120.0
"""Seconds the 'stopped' status of a deleted agent stays, for its owner to see and act on."""


@dataclass
class Managed:
    agent_id: str
    isolation: str
    placement: Placement
    config_version: int
    host_id: str | None = None
    process: BaseProcess | None = None
    failures: int = 0
    launched_at: float = 0.0
    running_since: float | None = None
    next_start_at: float | None = None
    running: bool = False
    generation: int = 0
    """The start this is (see :mod:`agenthub.runtime.status`): what it reports carries it."""


class Supervisor:
    def __init__(
        self,
        *,
        settings: Settings,
        bus: Bus,
        session_factory: SessionFactory,
        local_host: AgentHost,
        launcher: ProcessLauncher | None,
        metrics: Metrics,
    ) -> None:
        # The supervisor is known by its gateway's host: that host's heartbeat tells other
        # gateways whether the holder of a lease is still alive.
        self.id = local_host.host_id
        self._settings = settings
        self._bus = bus
        self._sessions = session_factory
        self._local = local_host
        self._launcher = launcher
        self._metrics = metrics
        self.statuses = StatusStore(
            bus, stale_after=settings.heartbeat_stale_after, restarts_reset_after=settings.restarts_reset_after
        )
        self._liveness = Liveness(bus=bus, settings=settings, owner_id=self.id)
        self.managed: dict[str, Managed] = {}
        self._wanted: dict[str, tuple[float, float]] = {}
        """Agents to start once their lease is free: id -> (asked at, give up at)."""
        self._locks: dict[str, asyncio.Lock] = {}
        metrics.running_agents.set_function(lambda: sum(m.running for m in self.managed.values()))

    def _lock(self, agent_id: str) -> asyncio.Lock:
        return self._locks.setdefault(agent_id, asyncio.Lock())

    # --- commands -------------------------------------------------------------------------
    async def ensure_running(self, agent_id: str) -> bool:
        """Start the agent unless it is starting or running already. Returns True when
        it was not running (the caller tells the user it is starting)."""
        managed = self.managed.get(agent_id)
        if managed is not None:
            if not managed.running and managed.next_start_at is None:
                # The runner may have reported running since the last check.
                status = await self.statuses.get(agent_id)
                if status.get("status") == "running" and status.get("host_id") == managed.host_id:
                    managed.running, managed.running_since = True, time.time()
            return not managed.running
        status = await self.statuses.get(agent_id)
        if status.get("status") == "running" and await self._liveness.host_alive(status.get("host_id")):
            return False
        if status.get("status") == "error":
            self._refuse_while_failed(agent_id, status)
        await self.start(agent_id)
        return True

    def _refuse_while_failed(self, agent_id: str, status: dict[str, Any]) -> None:
        refuse_while_failed(self._settings, agent_id, status)

    async def start(self, agent_id: str) -> dict[str, Any]:
        async with self._lock(agent_id):
            async with self._sessions() as session:
                agent = await agents_service.load_for_runtime(session, agent_id=agent_id)
            if agent_id in self.managed:
                return await self.statuses.describe(agent_id)
            if not await self._liveness.acquire_lease(agent_id):
                # Another gateway holds it: it runs the agent, or it has just died and its
                # heartbeat still looks fresh. Try again on the next checks until the agent
                # runs somewhere, so a message sent meanwhile is not left unanswered.
                now = time.time()
                self._wanted.setdefault(agent_id, (now, now + WANTED_FOR))
                return await self.statuses.describe(agent_id)
            self._wanted.pop(agent_id, None)
            isolation = agent.settings.get("isolation", "shared")
            current = await self.statuses.get(agent_id)
            fresh = current.get("status") in ("stopped", "error")
            managed = Managed(
                agent_id=agent_id,
                isolation=isolation,
                placement=await self._placement(isolation),
                config_version=agent.config_version,
                # Taken over from a gateway that died: its restarts in a row still count.
                failures=0 if fresh else int(current.get("restart_count", 0)),
            )
            self.managed[agent_id] = managed
            began = await self.statuses.begin(
                agent_id, isolation=isolation, placement=managed.placement, config_version=agent.config_version,
                restart_count=managed.failures,
            )
            managed.generation = began["generation"]
            await self._launch(managed)
            return await self.statuses.describe(agent_id)

    async def stop(self, agent_id: str, *, force: bool = False, announce: bool = True) -> dict[str, Any]:
        """Stop the agent. ``announce``: tell clients waiting for its answers that it
        stopped (not when it starts again at once)."""
        began = time.time()
        async with self._lock(agent_id):
            # Read first: with the bus unreachable the stop fails (503) before anything is
            # done, rather than after the runner was killed and forgotten.
            status = await self.statuses.get(agent_id)
            self._wanted.pop(agent_id, None)
            managed = self.managed.pop(agent_id, None)
            if managed is not None:
                await self._halt(managed, force=force)
                await self._bus.compare_and_delete(keys.agent_lease(agent_id), "owner", self.id)
                if announce:
                    await self._announce_stopped(agent_id, began=began)
            else:
                await self._release_orphan(agent_id, status, force=force)
            if managed is not None or status.get("status") != "stopped":
                # Another gateway that owns the agent sees this status and stops it (forced
                # when this stop was).
                await self.statuses.write(
                    agent_id, "stopped", restart_count=status.get("restart_count", 0), force=force
                )
            log.info("agent stopped", extra={"agent_id": agent_id, "force": force})
            return await self.statuses.describe(agent_id)

    async def _announce_stopped(
        self, agent_id: str, *, began: float, deleted: bool = False, failed: bool = False
    ) -> None:
        """Tell every gateway that the agent stopped (or was deleted, or ``failed`` for good
        after its restarts): clients that were waiting for an answer when the stop ``began``
        hear so now instead of when they time out."""
        event = {"type": "stopped", "agent_id": agent_id, "deleted": deleted, "failed": failed, "at": began}
        await self._announce(agent_id, event)

    async def _announce(self, agent_id: str, event: dict[str, Any]) -> None:
        try:
            await self._bus.publish(keys.agent_output(agent_id), event)
        except Exception as error:  # noqa: BLE001 - what is announced is done already
            log.warning(
                "could not announce %s: %s", event["type"], type(error).__name__, extra={"agent_id": agent_id}
            )

    async def _release_orphan(self, agent_id: str, status: dict[str, Any], *, force: bool) -> None:
        """An agent not managed here whose owner is gone (killed without a shutdown) may
        still be hosted by a live worker, which nobody else would tell to let it go."""
        holder = await self._bus.get(keys.agent_lease(agent_id))
        if holder is not None and await self._liveness.host_alive(holder.get("owner")):
            return  # its owner is alive and acts on the 'stopped' status
        host_id = status.get("host_id")
        if status.get("status") in ("starting", "running") and host_id and await self._liveness.host_alive(host_id):
            await self._bus.add(keys.host_control(host_id), {
                "op": "release", "agent_id": agent_id,
                "grace": 0.0 if force else self._settings.stop_grace_period,
            })

    async def forget(self, agent_id: str) -> None:
        """Stop a deleted agent and remove what the bus kept for it: its input stream
        (unanswered messages of a deleted agent have no one to answer them), activity and
        lease. Its status stays 'stopped' (forced) for a while, so a gateway that owned it
        stops it too."""
        began = time.time()
        await self.stop(agent_id, force=True, announce=False)
        await self.statuses.write(
            agent_id, "stopped", force=True, deleted=True, restart_count=0, ttl=DELETED_STATUS_TTL
        )
        await self._announce_stopped(agent_id, began=began, deleted=True)
        await self._bus.delete(keys.agent_input(agent_id), activity_key(agent_id), keys.agent_lease(agent_id))
        self._locks.pop(agent_id, None)

    async def restart(self, agent_id: str) -> dict[str, Any]:
        await self.stop(agent_id, announce=False)
        return await self.start(agent_id)

    async def shutdown(self) -> None:
        await asyncio.gather(*(self.stop(agent_id) for agent_id in list(self.managed)))

    # --- launching ------------------------------------------------------------------------
    async def _placement(self, isolation: str) -> Placement:
        if self._settings.embedded:
            return "local"
        if isolation == "process" and self._launcher is not None:
            return "process"
        if await self._live_workers():
            return "worker"
        return "local"

    async def _launch(self, managed: Managed) -> None:
        managed.launched_at = time.time()
        managed.next_start_at = None
        managed.running_since = None
        managed.running = False
        try:
            if managed.placement == "process":
                assert self._launcher is not None
                managed.host_id = new_host_id(f"runner-{managed.agent_id}")
                managed.process = await asyncio.to_thread(
                    self._launcher.spawn, managed.agent_id, managed.host_id
                )
            elif managed.placement == "worker":
                workers = await self._live_workers()
                if not workers:
                    managed.placement = "local"
                    await self.statuses.write(
                        managed.agent_id, "starting", generation=managed.generation, placement="local"
                    )
                    return await self._launch(managed)
                managed.host_id = min(workers, key=lambda w: workers[w])
                await self._bus.add(keys.host_control(managed.host_id), {
                    "op": "host", "agent_id": managed.agent_id, "isolation": managed.isolation,
                })
            else:
                managed.host_id = self._local.host_id
                await self._local.host(managed.agent_id, isolation=managed.isolation, generation=managed.generation)
                managed.running, managed.running_since = True, time.time()
        except Exception as error:  # noqa: BLE001 - a failed launch counts as a crash
            log.exception("launch failed", extra={"agent_id": managed.agent_id})
            await self._failed(managed, f"launch failed: {type(error).__name__}: {error}")

    async def _halt(self, managed: Managed, *, force: bool) -> None:
        grace = 0.0 if force else self._settings.stop_grace_period
        if managed.placement == "process" and managed.process is not None:
            process = managed.process
            signal_process(process, signal.SIGKILL if force else signal.SIGTERM)
            deadline = time.monotonic() + grace
            while process.exitcode is None and time.monotonic() < deadline:
                await asyncio.sleep(0.05)
            if process.exitcode is None:
                signal_process(process, signal.SIGKILL)
            await asyncio.to_thread(process.join, 5)
        elif managed.placement == "worker" and managed.host_id:
            await self._bus.add(keys.host_control(managed.host_id), {
                "op": "release", "agent_id": managed.agent_id, "grace": grace,
            })
        else:
            await self._local.release(managed.agent_id, grace=grace)

    # --- watching -------------------------------------------------------------------------
    async def run(self) -> None:
        """Check every PROCESS_CHECK_INTERVAL until cancelled."""
        while True:
            raise_if_cancel_requested()
            await asyncio.sleep(self._settings.process_check_interval)
            try:
                await self.check()
            except Exception:  # noqa: BLE001 - the watcher must keep watching
                log.exception("supervisor check failed")

    async def check(self) -> None:
        """One pass: restarts that are due, crashed or silent runners, lease renewals.
        Leases, statuses and heartbeats of every managed agent go in three round trips."""
        if self._wanted:
            await self._start_wanted()
        now = time.time()
        agents = list(self.managed.values())
        if not agents:
            return
        renew = self._bus.batch()
        for managed in agents:
            renew.set(keys.agent_lease(managed.agent_id), {"owner": self.id}, ttl=self._liveness.lease_ttl())
        await renew.execute()
        statuses = await self._bus.get_many([keys.agent_status(m.agent_id) for m in agents])
        host_ids = sorted({m.host_id for m in agents if m.host_id})
        beats = dict(zip(host_ids, await self._bus.get_many([keys.host_heartbeat(h) for h in host_ids]), strict=True))
        for managed, status in zip(agents, statuses, strict=True):
            async with self._lock(managed.agent_id):
                if self.managed.get(managed.agent_id) is not managed:
                    continue
                alive = self._liveness.fresh(beats.get(managed.host_id or ""), now)
                await self._check_one(managed, status or {}, alive, now)

    async def _check_one(self, managed: Managed, status: dict[str, Any], alive: bool, now: float) -> None:
        if status.get("status") == "stopped" and status.get("changed_at", 0) > managed.launched_at:
            # Stopped through another gateway: it wrote the status, the owner acts on it.
            self.managed.pop(managed.agent_id, None)
            await self._halt(managed, force=bool(status.get("force")))
            await self._bus.compare_and_delete(keys.agent_lease(managed.agent_id), "owner", self.id)
            await self._announce_stopped(
                managed.agent_id, began=float(status.get("changed_at", 0)), deleted=bool(status.get("deleted"))
            )
            log.info("agent stopped through another gateway", extra={"agent_id": managed.agent_id})
            return
        if managed.next_start_at is not None:
            if now >= managed.next_start_at:
                await self._launch(managed)
            return
        if managed.placement == "local":
            return
        if managed.process is not None and managed.process.exitcode is not None:
            await self._failed(managed, f"runner {describe_exit(managed.process.exitcode)}")
            return
        if status.get("status") == "running" and status.get("host_id") == managed.host_id:
            if not alive:
                await self._kill(managed)
                await self._failed(managed, "heartbeat stale")
                return
            if not managed.running:
                managed.running, managed.running_since = True, now
            if managed.failures and now - (managed.running_since or now) > self._settings.restarts_reset_after:
                managed.failures = 0
                await self.statuses.write(
                    managed.agent_id, "running", generation=managed.generation, restart_count=0
                )
        elif now - managed.launched_at > START_TIMEOUT:
            await self._kill(managed)
            await self._failed(managed, f"did not report running within {START_TIMEOUT:.0f}s")

    async def _start_wanted(self) -> None:
        now = time.time()
        for agent_id, (asked_at, give_up_at) in list(self._wanted.items()):
            status = await self.statuses.get(agent_id)
            settled = (
                agent_id in self.managed
                or now > give_up_at
                or (status.get("status") in ("stopped", "error") and status.get("changed_at", 0) > asked_at)
                or (status.get("status") == "running" and await self._liveness.host_alive(status.get("host_id")))
            )
            if settled:
                self._wanted.pop(agent_id, None)
                continue
            try:
                await self.start(agent_id)
            except NotFound:  # deleted meanwhile
                self._wanted.pop(agent_id, None)

    async def _failed(self, managed: Managed, reason: str) -> None:
        if managed.placement == "process" and managed.host_id:
            await self._bus.delete(*host_keys(managed.host_id))  # the dead runner's own keys
        managed.failures += 1
        managed.running = False
        managed.process = None
        failed_at = time.time()
        if managed.failures > self._settings.max_restart_attempts:
            self.managed.pop(managed.agent_id, None)
            await self._bus.compare_and_delete(keys.agent_lease(managed.agent_id), "owner", self.id)
            message = f"{reason}; gave up after {self._settings.max_restart_attempts} restarts in a row"
            await self.statuses.write(
                managed.agent_id, "error", generation=managed.generation, error=message,
                restart_count=managed.failures - 1,
            )
            await self._announce_stopped(managed.agent_id, began=failed_at, failed=True)
            log.error("agent failed for good", extra={"agent_id": managed.agent_id, "reason": reason})
            return
        delay = min(
            self._settings.restart_backoff_base * 2 ** (managed.failures - 1),
            self._settings.restart_backoff_max,
        )
        managed.next_start_at = time.time() + delay
        if managed.placement == "worker":
            managed.placement = await self._placement(managed.isolation)
        self._metrics.restarts.inc()
        await self.statuses.write(
            managed.agent_id, "starting", generation=managed.generation, error=reason, restart_count=managed.failures,
            isolation=managed.isolation, placement=managed.placement, config_version=managed.config_version,
        )
        await self._announce(managed.agent_id, {"type": "restarting", "agent_id": managed.agent_id, "at": failed_at})
        log.warning(
            "agent will restart", extra={"agent_id": managed.agent_id, "reason": reason, "in_seconds": delay}
        )

    async def _kill(self, managed: Managed) -> None:
        if managed.process is not None:
            signal_process(managed.process, signal.SIGKILL)
            await asyncio.to_thread(managed.process.join, 5)

    # --- helpers --------------------------------------------------------------------------
    async def _live_workers(self) -> dict[str, int]:
        placed: dict[str, int] = {}
        for m in self.managed.values():
            if m.placement == "worker" and m.host_id:
                placed[m.host_id] = placed.get(m.host_id, 0) + 1
        return await self._liveness.live_workers(placed)


def refuse_while_failed(settings: Settings, agent_id: str, status: dict[str, Any]) -> None:
    """Raise AgentFailed unless the failed agent's cool-down (``status``: its status) has passed."""
    cooldown = settings.agent_error_cooldown
    failed_at = float(status.get("changed_at") or 0)
    if cooldown and time.time() >= failed_at + cooldown:
        return
    message = (
        f"The agent {agent_id!r} kept failing and was stopped ({status.get('error') or 'no reason given'}). "
        f"Start it again (POST /api/v1/agents/{agent_id}/start, or `agenthub agents start {agent_id}`)"
    )
    if cooldown:
        retry_at = iso_seconds(datetime.fromtimestamp(failed_at + cooldown, UTC))
        message += f"; messages start it again from {retry_at}"
    raise AgentFailed(message + ".")
