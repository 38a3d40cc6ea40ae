"""Multi-step work across the agents domain and the runtime. Each flow is one function that
takes its collaborators; routes only call it."""

from __future__ import annotations

import copy
from dataclasses import dataclass
from typing import Any, Protocol

from sqlalchemy.ext.asyncio import AsyncSession

from agenthub.agents import service as agents_service
from agenthub.agents.directory import AgentDirectory
from agenthub.agents.models import Agent
from agenthub.agents.schemas import AgentRead, AgentUpdate
from agenthub.audit.service import Audit
from agenthub.errors import NotFound
from agenthub.outbound.guard import OutboundGuard
from agenthub.runtime.supervisor import Supervisor


class Integrations(Protocol):
    """What runs the agents' integrations (the serve process's Telegram integrations)."""

    async def apply(
        self, *, org_id: str, handle: str, agent_id: str, before: dict[str, Any], after: dict[str, Any]
    ) -> None: ...


@dataclass(frozen=True, slots=True)
class Updated:
    agent: Agent
    restart_required: bool
    message: str


def _snapshot(agent: Agent) -> dict[str, object]:
    """The agent as the audit log keeps it: as a read shows it, secrets masked."""
    return AgentRead.model_validate(agent).model_dump(mode="json")


async def update_agent(
    *, session: AsyncSession, supervisor: Supervisor, audit: Audit, directory: AgentDirectory, agent_id: str,
    data: AgentUpdate, guard: OutboundGuard | None = None, integrations: Integrations | None = None,
) -> Updated:
    """Save the change (and its audit record) to the organisation's agent named ``agent_id``; say whether the running agent still runs an
    older config (it takes the new one on its next restart). The gateway of this process
    sees the change at once, and the agent's integrations (``integrations``) apply it: a bot
    added is started, one removed stopped, one changed restarted."""
    caller = audit.caller
    stored = await agents_service.get(session, org_id=caller.org_id, agent_id=agent_id)
    before = _snapshot(stored)
    settings_before = copy.deepcopy(dict(stored.settings or {}))
    agent, changed = await agents_service.update(
        session, org_id=caller.org_id, agent_id=agent_id, data=data, caller=caller, guard=guard
    )
    if changed:
        audit.record(
            session, action="agent.update", resource_type="agent", resource_id=agent.handle,
            before=before, after=_snapshot(agent),
        )
    await session.commit()  # committed before it is forgotten: no lookup can keep the old one
    directory.forget(agent.id)
    if changed and integrations is not None:
        await integrations.apply(
            org_id=caller.org_id, handle=agent.handle, agent_id=agent.id, before=settings_before,
            after=dict(agent.settings or {}),
        )
    current = await supervisor.statuses.get(agent.id)
    running = current.get("status") in ("starting", "running")
    stale = running and current.get("config_version") != agent.config_version
    if changed and _only_integrations(data, settings_before, dict(agent.settings or {})):
        return Updated(agent=agent, restart_required=False, message="Saved. Its integrations apply the change now.")
    if not changed:
        message = "Nothing changed." + (
            " The agent is still running an older config and takes this one on its next restart." if stale else ""
        )
    elif stale:
        message = "Saved. The agent is running an older config and takes this one on its next restart."
    else:
        message = "Saved."
    return Updated(agent=agent, restart_required=stale, message=message)


def _only_integrations(data: AgentUpdate, before: dict[str, Any], after: dict[str, Any]) -> bool:
    """Whether the change touched the agent's integrations alone (which apply it at once:
    the agent itself needs no restart)."""
    if data.model_fields_set - {"settings"}:
        return False
    touched = {key for key in before.keys() | after.keys() if before.get(key) != after.get(key)}
    return touched == {"integrations"}


async def delete_agent(
    *, session: AsyncSession, supervisor: Supervisor, audit: Audit, directory: AgentDirectory, agent_id: str,
    handle: str,
) -> None:
    """Stop the agent (``agent_id``: its internal id; ``handle``: the organisation's name of
    it), delete it (soft: hidden at once, purged after the retention period), then forget
    what the bus kept for it and tell its clients it was deleted."""
    caller = audit.caller
    await supervisor.stop(agent_id, force=False, announce=False)  # forget() says it was deleted
    agent = await agents_service.get(session, org_id=caller.org_id, agent_id=handle)
    if agent.id != agent_id:  # deleted and created again meanwhile: not the agent stopped
        raise NotFound(f"agent {handle!r} not found")
    before = _snapshot(agent)
    await agents_service.delete(session, org_id=caller.org_id, agent_id=handle)
    audit.record(session, action="agent.delete", resource_type="agent", resource_id=handle, before=before)
    await session.commit()  # hidden before the runtime forgets it: nothing can start it again
    directory.forget(agent_id)  # this gateway answers 404 for it from now on
    await supervisor.forget(agent_id)
