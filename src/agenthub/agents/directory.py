"""Which agents exist, as the gateway asks for every message: a per-process cache of the
agent lookup.

An SSE request (and a WebSocket when it connects) checks its agent before anything is
stored; asking the database each time costs a session, a query and its round trips on
every message. :class:`AgentDirectory` keeps a small frozen :class:`AgentSummary` of each
agent it looked up, for :data:`AGENT_CACHE_TTL` seconds:

- what this process changes (an update, a delete) it forgets at once, after the change is
  committed: the gateway that deleted an agent answers 404 for it from then on;
- what another process changes (another gateway, the CLI) is seen within the TTL. Until
  then this gateway may take an agent deleted elsewhere for one that exists; a message for
  it still gets 404, from the runtime, which loads an agent from the database to start it
  and hosts no deleted one;
- a lookup that must not lag at all asks for a ``fresh`` answer (a WebSocket does, once
  when it connects).

An agent is looked up by its organisation and handle (the organisation's own callers) or by
its internal id (everyone else, for a public agent); each lookup is kept under its own key,
and :meth:`AgentDirectory.forget` drops both.

Only agents that exist are kept (an agent created anywhere is found at once), at most
:data:`AGENT_CACHE_SIZE` of them, the least recently looked up going first.
"""

from __future__ import annotations

import time
from collections import OrderedDict
from dataclasses import dataclass
from typing import Any

from agenthub.agents import service
from agenthub.db.engine import SessionFactory
from agenthub.errors import NotFound

AGENT_CACHE_TTL = 2.0
"""Seconds a looked-up agent is trusted without asking the database again: how long a change
made by another process (another gateway, the CLI) may go unseen by this one."""
AGENT_CACHE_SIZE = 4096
"""Agents kept at most; beyond that the least recently looked up is dropped."""


@dataclass(frozen=True, slots=True)
class AgentSummary:
    """What the gateway needs of an agent to take a message for it."""

    id: str
    org_id: str
    kind: str
    access: Any
    """``settings["access"]``: who may talk to the agent (None: not set). Read-only."""
    owner_user_id: str | None = None
    """The member whose personal agent it is, if it is one."""
    handle: str = ""
    """The id its organisation names it by (``id`` is the internal one)."""


Key = tuple[str, str]
ANY_ORG = ""
"""The organisation part of the key of a lookup by internal id."""


class AgentDirectory:
    """Looks agents up for the gateway of one process; see the module's documentation."""

    def __init__(
        self, session_factory: SessionFactory, *, ttl: float = AGENT_CACHE_TTL, size: int = AGENT_CACHE_SIZE
    ) -> None:
        self._sessions = session_factory
        self._ttl = ttl
        self._size = size
        self._known: OrderedDict[Key, tuple[float, AgentSummary]] = OrderedDict()
        """By internal id (``("", id)``) and by organisation and handle (``(org_id, handle)``)."""
        self._generation = 0
        """Counts :meth:`forget` calls: a lookup that overlapped one keeps nothing."""

    async def get(self, *, org_id: str, agent_id: str, fresh: bool = False) -> AgentSummary:
        """The organisation's agent named ``agent_id`` (its handle); NotFound when it has none
        of that name (or it was deleted). ``fresh``: ask the database whatever is kept (and
        keep its answer)."""
        return await self._lookup((org_id, agent_id), fresh=fresh)

    async def find(self, agent_id: str, *, fresh: bool = False) -> AgentSummary:
        """The agent of this internal id (its address), whichever organisation's (a public
        agent is reached from any); NotFound when there is none (or it was deleted)."""
        return await self._lookup((ANY_ORG, agent_id), fresh=fresh)

    async def _lookup(self, key: Key, *, fresh: bool) -> AgentSummary:
        now = time.monotonic()
        cached = None if fresh else self._known.get(key)
        if cached is not None and cached[0] > now:
            self._known.move_to_end(key)
            return cached[1]
        generation = self._generation
        org_id, agent_id = key
        async with self._sessions() as session:
            try:
                if org_id == ANY_ORG:
                    agent = await service.find(session, agent_id=agent_id)
                else:
                    agent = await service.get(session, org_id=org_id, agent_id=agent_id)
            except NotFound:
                self._known.pop(key, None)  # what a fresh lookup no longer finds is not kept
                raise
            summary = AgentSummary(
                id=agent.id, org_id=agent.org_id, kind=agent.kind, access=(agent.settings or {}).get("access"),
                owner_user_id=agent.owner_user_id, handle=agent.handle,
            )
        if generation == self._generation:
            self._keep(key, summary, expires=now + self._ttl)
        return summary

    def forget(self, agent_id: str) -> None:
        """The agent of this internal id was changed or deleted by this process (call once it
        is committed): the next lookup of it, by id or by handle, asks the database."""
        self._generation += 1
        for key in [key for key, (_, summary) in self._known.items() if summary.id == agent_id]:
            del self._known[key]

    def _keep(self, key: Key, summary: AgentSummary, *, expires: float) -> None:
        self._known[key] = (expires, summary)
        self._known.move_to_end(key)
        while len(self._known) > self._size:
            self._known.popitem(last=False)
