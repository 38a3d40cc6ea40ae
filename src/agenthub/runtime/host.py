"""An AgentHost runs the turns of the agents it hosts.

The same host serves every placement: a runner process hosts one agent, an
``agenthub worker`` hosts many, and the gateway process hosts agents in-process (always in
the embedded mode). Input streams are read in batches of :data:`READ_BATCH` streams per
blocking read; turns of one chat run one after another, different chats concurrently.
"""

from __future__ import annotations

import asyncio
import logging
import os
import socket
import time
import uuid
from collections import deque
from dataclasses import dataclass, field
from typing import Literal

from agenthub.agents import service as agents_service
from agenthub.agents.schemas import secret_values
from agenthub.bus import Bus, Entry, Payload, keys
from agenthub.config import Settings
from agenthub.db.engine import SessionFactory
from agenthub.errors import is_unavailable
from agenthub.ops.logging import remember_secrets
from agenthub.runtime.status import StatusStore
from agenthub.runtime.tasks import raise_if_cancel_requested, stop_tasks
from agenthub.runtime.turns import HostedAgent, TurnRunner

log = logging.getLogger(__name__)

READ_BATCH = 256
READ_BLOCK_MS = 2000
"""How long one blocking read of the input streams waits. Must stay below the Redis client's
socket timeout (redis-py's default is 5 s), or an idle read fails with a read timeout."""
DELIVERY_RETRY_BASE = 0.5
DELIVERY_RETRY_MAX = 10.0
"""A turn that could not be delivered because the bus was unreachable is tried again after
DELIVERY_RETRY_BASE seconds, doubling up to DELIVERY_RETRY_MAX, until the bus is back."""
HostRole = Literal["local", "runner", "worker"]


def host_keys(host_id: str, *, readers: int = 1) -> list[str]:
    """Every key a host owns, to delete when it ends (or is found dead)."""
    return [
        keys.host_heartbeat(host_id),
        keys.host_control(host_id),
        *(keys.host_wake(host_id, index) for index in range(max(readers, 1))),
    ]


def new_host_id(role: str) -> str:
    return f"{role}-{socket.gethostname()}-{os.getpid()}-{uuid.uuid4().hex[:6]}"


@dataclass
class _Reader:
    index: int
    agents: set[str] = field(default_factory=set)
    task: asyncio.Task[None] | None = None


class AgentHost:
    def __init__(
        self,
        *,
        host_id: str,
        role: HostRole,
        bus: Bus,
        session_factory: SessionFactory,
        settings: Settings,
        turns: TurnRunner,
    ) -> None:
        self.host_id = host_id
        self.role = role
        self._bus = bus
        self._sessions = session_factory
        self._settings = settings
        self._turns = turns
        self._statuses = StatusStore(bus)
        self.agents: dict[str, HostedAgent] = {}
        self._readers: list[_Reader] = []
        self._chat_queues: dict[tuple[str, str], deque[tuple[Entry, Payload | None, bool]]] = {}
        self._chat_tasks: dict[tuple[str, str], asyncio.Task[None]] = {}
        self._capacity = asyncio.Semaphore(settings.max_concurrent_turns)
        self._heartbeat_task: asyncio.Task[None] | None = None

    # --- lifecycle ----------------------------------------------------------------------
    async def start(self) -> None:
        await self.beat()
        self._heartbeat_task = asyncio.create_task(self._heartbeat_loop(), name="host-heartbeat")

    async def close(self, *, grace: float = 0.0) -> None:
        for agent_id in list(self.agents):
            await self.release(agent_id, grace=grace)
        await stop_tasks([*(r.task for r in self._readers), self._heartbeat_task])
        try:
            await self._bus.delete(*host_keys(self.host_id, readers=len(self._readers)))
        except Exception as error:
            if not is_unavailable(error):
                raise
            # Closing during an outage: the keys expire by themselves, and the supervisor
            # takes the missing heartbeat for what it is.
            log.warning(
                "host closed without removing its keys: the bus is unreachable", extra={"host_id": self.host_id}
            )

    async def beat(self) -> None:
        await self._bus.set(
            keys.host_heartbeat(self.host_id),
            {
                "at": time.time(),
                "pid": os.getpid(),
                "host": socket.gethostname(),
                "role": self.role,
                "agents": len(self.agents),
            },
            ttl=self._settings.heartbeat_stale_after * 4,
        )

    async def _heartbeat_loop(self) -> None:
        while True:
            raise_if_cancel_requested()
            await asyncio.sleep(self._settings.agent_runner_heartbeat_interval)
            try:
                await self.beat()
            except Exception:  # noqa: BLE001 - a missed beat is retried next interval
                log.exception("heartbeat failed", extra={"host_id": self.host_id})

    # --- hosting --------------------------------------------------------------------------
    async def host(
        self, agent_id: str, *, isolation: str | None = None, generation: int | None = None
    ) -> HostedAgent:
        """Take an agent on: load its config, answer what it left unanswered, then listen.
        ``generation``: the start this serves (read from the status when not given); its
        'running' is not recorded once that start was stopped or superseded."""
        if agent_id in self.agents:
            return self.agents[agent_id]
        if generation is None:
            generation = (await self._statuses.get(agent_id)).get("generation", 0)
        async with self._sessions() as session:
            record = await agents_service.load_for_runtime(session, agent_id=agent_id)
        secrets, urls = secret_values(record.settings)
        remember_secrets(*secrets, urls=urls)  # an error that echoes them is logged masked
        agent = HostedAgent(
            id=record.id,
            org_id=record.org_id,
            kind=record.kind,
            settings=dict(record.settings),
            config_version=record.config_version,
        )
        self._turns.check(agent)  # an engine of this process runs its kind
        stream = keys.agent_input(agent_id)
        await self._bus.ensure_group(stream, keys.INPUT_GROUP)
        self.agents[agent_id] = agent
        leftovers = await self._bus.read(
            {stream: "0"}, keys.INPUT_GROUP, keys.INPUT_CONSUMER, count=10_000
        )
        await self._dispatch_all(leftovers, delivered_before=True)
        await self._assign_reader(agent_id)
        reported = await self._statuses.write(
            agent_id,
            "running",
            generation=generation,
            pid=os.getpid(),
            host=socket.gethostname(),
            host_id=self.host_id,
            isolation=isolation or agent.settings.get("isolation"),
            config_version=agent.config_version,
            started_at=time.time(),
        )
        if reported is None:
            log.info("agent stopped while it was being hosted", extra={"agent_id": agent_id})
        log.info("agent hosted", extra={"agent_id": agent_id, "host_id": self.host_id, "recovered": len(leftovers)})
        return agent

    async def release(self, agent_id: str, *, grace: float) -> None:
        """Stop listening for an agent; let its turns in flight finish within ``grace``
        seconds, then cancel them. What it did not acknowledge stays for the next host."""
        if self.agents.pop(agent_id, None) is None:
            return
        for reader in self._readers:
            if agent_id in reader.agents:
                reader.agents.discard(agent_id)
                await self._wake(reader)
        in_flight = [task for (aid, _), task in self._chat_tasks.items() if aid == agent_id]
        if in_flight:
            _done, pending = await asyncio.wait(in_flight, timeout=grace if grace > 0 else 0)
            await stop_tasks(pending)
        for key in [key for key in self._chat_queues if key[0] == agent_id]:
            self._chat_queues.pop(key, None)
        log.info("agent released", extra={"agent_id": agent_id, "host_id": self.host_id})

    # --- reading --------------------------------------------------------------------------
    async def _assign_reader(self, agent_id: str) -> None:
        reader = next((r for r in self._readers if len(r.agents) < READ_BATCH), None)
        if reader is None:
            reader = _Reader(index=len(self._readers))
            await self._bus.ensure_group(keys.host_wake(self.host_id, reader.index), keys.INPUT_GROUP)
            self._readers.append(reader)
        reader.agents.add(agent_id)
        if reader.task is None or reader.task.done():
            reader.task = asyncio.create_task(self._read_loop(reader), name=f"reader-{reader.index}")
            reader.task.add_done_callback(self._report_crash)
        else:
            await self._wake(reader)

    async def _wake(self, reader: _Reader) -> None:
        """Interrupt a blocking read so the reader picks up its new set of streams. With the
        bus unreachable there is no read to interrupt: the next one uses the new set."""
        try:
            await self._bus.add(keys.host_wake(self.host_id, reader.index), {"wake": True})
        except Exception as error:
            if not is_unavailable(error):
                raise

    async def _read_loop(self, reader: _Reader) -> None:
        wake = keys.host_wake(self.host_id, reader.index)
        while True:
            raise_if_cancel_requested()
            streams = {keys.agent_input(agent_id): ">" for agent_id in reader.agents}
            streams[wake] = ">"
            try:
                entries = await self._bus.read(
                    streams, keys.INPUT_GROUP, keys.INPUT_CONSUMER, count=64, block_ms=READ_BLOCK_MS
                )
            except asyncio.CancelledError:
                raise
            except Exception:  # noqa: BLE001 - the bus may be briefly unreachable
                log.exception("reading agent input failed", extra={"host_id": self.host_id})
                await asyncio.sleep(1.0)
                continue
            try:
                wakes = [entry.id for entry in entries if entry.stream == wake]
                if wakes:
                    await self._bus.ack(wake, keys.INPUT_GROUP, *wakes)
                await self._dispatch_all([entry for entry in entries if entry.stream != wake])
            except asyncio.CancelledError:
                raise
            except Exception:  # noqa: BLE001 - left unacknowledged: delivered again to the next host
                log.exception("dispatching agent input failed", extra={"host_id": self.host_id})
                await asyncio.sleep(1.0)

    # --- dispatching ----------------------------------------------------------------------
    async def _dispatch_all(self, entries: list[Entry], *, delivered_before: bool = False) -> None:
        """Queue entries by chat. Entries delivered before (found pending when an agent is
        taken on) may have been answered: they go with their stored answer, looked up for
        the whole batch in one round trip. A fresh entry has not been answered anywhere."""
        entries = [entry for entry in entries if str(entry.payload.get("agent_id", "")) in self.agents]
        stored = await self._turns.stored_answers(entries) if delivered_before and entries else [None] * len(entries)
        for entry, answer in zip(entries, stored, strict=True):
            agent_id = str(entry.payload.get("agent_id", ""))
            if agent_id not in self.agents:
                continue  # released meanwhile: left unacknowledged for the next host
            key = (agent_id, str(entry.payload.get("chat_id", "")))
            # Delivered before and not answered: a host may have streamed part of an answer.
            self._chat_queues.setdefault(key, deque()).append((entry, answer, delivered_before))
            if key not in self._chat_tasks:
                task = self._chat_tasks[key] = asyncio.create_task(self._drain(key))
                task.add_done_callback(self._report_crash)

    async def _drain(self, key: tuple[str, str]) -> None:
        """Answer one chat's messages in the order they arrived."""
        try:
            while (queue := self._chat_queues.get(key)) and queue:
                entry, answer, again = queue.popleft()
                agent = self.agents.get(key[0])
                if agent is None:
                    return
                await self._answer_until_delivered(agent, entry, answer, again)
        finally:
            self._chat_tasks.pop(key, None)
            if not self._chat_queues.get(key):
                self._chat_queues.pop(key, None)

    async def _answer_until_delivered(
        self, agent: HostedAgent, entry: Entry, answer: Payload | None, again: bool
    ) -> None:
        """Run a turn. When the bus is unreachable while it runs (the answer could not be
        delivered), wait for the bus with backoff and run it again: its reply marker then
        tells whether the answer went out after all (it is published again, not made again).
        The entry stays pending meanwhile; released, the agent's next host takes it."""
        delay = DELIVERY_RETRY_BASE
        while True:
            try:
                async with self._capacity:
                    await self._turns.run(agent, entry, stored_answer=answer, again=again)
                return
            except asyncio.CancelledError:
                raise
            except Exception as error:
                if not is_unavailable(error):
                    raise
                log.warning(
                    "turn not delivered, the bus is unreachable; trying again: %s",
                    type(error).__name__,
                    extra={"agent_id": agent.id, "host_id": self.host_id, "entry_id": entry.id},
                )
            while True:
                await asyncio.sleep(delay)
                delay = min(delay * 2, DELIVERY_RETRY_MAX)
                if self.agents.get(agent.id) is not agent:
                    return  # released meanwhile: left pending for the next host
                try:
                    [answer] = await self._turns.stored_answers([entry])
                except Exception as error:
                    if not is_unavailable(error):
                        raise
                    continue
                again = True
                break

    def _report_crash(self, task: asyncio.Task[None]) -> None:
        """No task of a host ends with an exception nobody sees."""
        if not task.cancelled() and task.exception() is not None:
            log.error(
                "host task %s ended by an error; its entries stay pending for the agent's next host",
                task.get_name(),
                exc_info=task.exception(),
                extra={"host_id": self.host_id},
            )
