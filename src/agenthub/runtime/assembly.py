"""Putting a host together from its collaborators; used by every entry point."""

from __future__ import annotations

from agenthub.bus import Bus
from agenthub.config import Settings
from agenthub.db.engine import SessionFactory
from agenthub.engines.registry import EngineRegistry
from agenthub.runtime.host import AgentHost, HostRole
from agenthub.runtime.status import StatusStore
from agenthub.runtime.turns import TurnRunner


def build_host(
    *,
    host_id: str,
    role: HostRole,
    bus: Bus,
    session_factory: SessionFactory,
    settings: Settings,
    engines: EngineRegistry,
) -> AgentHost:
    """A host whose agents answer through ``engines`` (by their kind)."""
    turns = TurnRunner(bus=bus, settings=settings, engines=engines, statuses=StatusStore(bus))
    return AgentHost(
        host_id=host_id,
        role=role,
        bus=bus,
        session_factory=session_factory,
        settings=settings,
        turns=turns,
    )
