"""Who is alive and who owns what, as the bus tells it: hosts' heartbeats, the live
workers, and the lease a supervisor holds on each agent it manages (``agent_lease:{id}``),
so that one supervisor manages an agent even with several gateway replicas."""

from __future__ import annotations

import logging
import time
from typing import Any

from agenthub.bus import Bus, keys
from agenthub.config import Settings

log = logging.getLogger(__name__)


class Liveness:
    def __init__(self, *, bus: Bus, settings: Settings, owner_id: str) -> None:
        self._bus = bus
        self._settings = settings
        self._owner = owner_id

    def lease_ttl(self) -> float:
        return max(self._settings.process_check_interval * 5, 15.0)

    def fresh(self, beat: dict[str, Any] | None, now: float) -> bool:
        """A heartbeat recent enough for its host to count as alive."""
        return beat is not None and now - beat["at"] <= self._settings.heartbeat_stale_after

    async def host_alive(self, host_id: str | None) -> bool:
        if not host_id:
            return False
        return self.fresh(await self._bus.get(keys.host_heartbeat(host_id)), time.time())

    async def acquire_lease(self, agent_id: str) -> bool:
        """Take the agent's lease: free, already ours, or held by a gateway whose heartbeat
        stopped (killed without a shutdown), which is then taken over."""
        key = keys.agent_lease(agent_id)
        mine = {"owner": self._owner}
        if await self._bus.set(key, mine, ttl=self.lease_ttl(), only_if_absent=True):
            return True
        holder = await self._bus.get(key)
        if holder is None or holder.get("owner") == self._owner:
            return holder is not None
        if await self.host_alive(holder.get("owner")):
            return False
        await self._bus.compare_and_delete(key, "owner", str(holder.get("owner")))
        taken = await self._bus.set(key, mine, ttl=self.lease_ttl(), only_if_absent=True)
        if taken:
            log.warning("took over the lease of a dead gateway", extra={"agent_id": agent_id})
        return taken

    async def live_workers(self, placed: dict[str, int]) -> dict[str, int]:
        """Live worker hosts and how many agents each holds: what its heartbeat says, or
        what ``placed`` (agents this supervisor put there) says when that is more."""
        members: list[str] = sorted(await self._bus.set_members(keys.WORKERS_SET))
        beats = await self._bus.get_many([keys.host_heartbeat(m) for m in members])
        now = time.time()
        live: dict[str, int] = {}
        for member, beat in zip(members, beats, strict=True):
            if beat is None:
                await self._bus.set_remove(keys.WORKERS_SET, member)
            elif self.fresh(beat, now):
                live[member] = max(int(beat.get("agents", 0)), placed.get(member, 0))
        return live
