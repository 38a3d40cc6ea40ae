"""Starts the agents that Telegram bots' processes ask for (:class:`.process.BusStarter`):
every serve process reads :data:`~agenthub.bus.keys.AGENT_START_REQUESTS` in one consumer
group and has its supervisor make sure the agent runs (a supervisor's lease per agent keeps
it to one of them). A request is acknowledged once it was acted on: one that a process read
and never acted on (it died, or the database was away) is taken up by a reader after
:data:`STALE_AFTER_MS`. One for an agent that is gone, or that kept failing, is dropped (the
bot's user is told by the gateway's timeout or the agent's error)."""

from __future__ import annotations

import asyncio
import logging

from agenthub.bus import Bus, keys
from agenthub.errors import AgentHubError
from agenthub.runtime.host import READ_BLOCK_MS
from agenthub.runtime.supervisor import Supervisor
from agenthub.runtime.tasks import raise_if_cancel_requested

log = logging.getLogger(__name__)

STALE_AFTER_MS = 30_000
"""How long a request may wait read but not acted on before another reader takes it up:
longer than starting an agent takes."""


class StartRelay:
    name = "agent-start-requests"

    def __init__(self, *, bus: Bus, supervisor: Supervisor, stale_after_ms: int = STALE_AFTER_MS) -> None:
        self._bus = bus
        self._supervisor = supervisor
        self._stale_after_ms = stale_after_ms

    async def setup(self) -> None:
        await self._bus.ensure_group(keys.AGENT_START_REQUESTS, keys.AGENT_START_GROUP)

    async def run_once(self, *, block_ms: int | None = None) -> int:
        """Act on the requests left unacted on for too long, then on new ones; how many."""
        consumer = self._supervisor.id
        entries = await self._bus.claim_stale(
            keys.AGENT_START_REQUESTS, keys.AGENT_START_GROUP, consumer, min_idle_ms=self._stale_after_ms, count=50,
        )
        entries += await self._bus.read(
            {keys.AGENT_START_REQUESTS: ">"}, keys.AGENT_START_GROUP, consumer, count=50,
            block_ms=None if entries else block_ms,
        )
        for entry in entries:
            agent_id = str(entry.payload.get("agent_id") or "")
            try:
                await self._supervisor.ensure_running(agent_id)
            except AgentHubError as error:
                log.info("agent not started", extra={"agent_id": agent_id, "reason": error.message})
            await self._bus.ack(keys.AGENT_START_REQUESTS, keys.AGENT_START_GROUP, entry.id)
        return len(entries)

    async def run(self) -> None:
        while True:
            raise_if_cancel_requested()
            try:
                await self.run_once(block_ms=READ_BLOCK_MS)
            except asyncio.CancelledError:
                raise
            except Exception:  # noqa: BLE001 - the bus may be briefly unreachable; keep reading
                log.exception("reading agent start requests failed")
                await asyncio.sleep(1.0)
