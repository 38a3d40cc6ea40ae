"""Agent routes that reach the running agent: update (which says whether a restart is
needed), delete, status, start, stop, restart. Thin: flows and the supervisor do the work."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, status
from starlette.requests import HTTPConnection

from agenthub.agents import service as agents_service
from agenthub.agents.api import AgentId, ExistingAgent, KeysSetDep, NamedAgent
from agenthub.agents.schemas import AgentRead, AgentStatusRead, AgentUpdate, AgentUpdated
from agenthub.audit.deps import AuditDep
from agenthub.audit.service import Audit
from agenthub.deps import SessionDep, SettingsDep
from agenthub.gateway_deps import AgentDirectoryDep, SupervisorDep
from agenthub.json_input import StrictJSONRoute
from agenthub.lifecycle import flows
from agenthub.outbound.guard import OutboundGuard

router = APIRouter(prefix="/api/v1/agents", tags=["agents"], route_class=StrictJSONRoute)


async def _integrations(connection: HTTPConnection) -> flows.Integrations | None:
    return getattr(connection.app.state, "telegram", None)


IntegrationsDep = Annotated[flows.Integrations | None, Depends(_integrations)]


@router.patch("/{agent_id}", response_model=AgentUpdated, response_model_exclude_none=True)
async def update_agent(
    agent_id: AgentId, data: AgentUpdate, session: SessionDep, audit: AuditDep, supervisor: SupervisorDep,
    directory: AgentDirectoryDep, keys_set: KeysSetDep, settings: SettingsDep, integrations: IntegrationsDep,
) -> AgentUpdated:
    updated = await flows.update_agent(
        session=session, supervisor=supervisor, audit=audit, directory=directory, agent_id=agent_id, data=data,
        guard=OutboundGuard.from_settings(settings), integrations=integrations,
    )
    return AgentUpdated(
        **AgentRead.model_validate(updated.agent).model_dump(),
        restart_required=updated.restart_required,
        message=updated.message,
        warning=agents_service.missing_key_warning(updated.agent.settings, keys_set=keys_set),
    )


@router.delete("/{agent_id}", status_code=status.HTTP_204_NO_CONTENT)
async def delete_agent(
    agent: ExistingAgent, session: SessionDep, audit: AuditDep, supervisor: SupervisorDep,
    directory: AgentDirectoryDep,
) -> None:
    await flows.delete_agent(
        session=session, supervisor=supervisor, audit=audit, directory=directory, agent_id=agent.id,
        handle=agent.handle,
    )


@router.get("/{agent_id}/status", response_model=AgentStatusRead)
async def get_agent_status(agent: ExistingAgent, supervisor: SupervisorDep) -> AgentStatusRead:
    return _shown(agent, await supervisor.statuses.describe(agent.id))


# Starting and stopping change no config, but who stopped an agent is worth knowing: each
# is recorded once the supervisor did it (no before/after; the status it answered).
@router.post("/{agent_id}/start", response_model=AgentStatusRead)
async def start_agent(agent: ExistingAgent, supervisor: SupervisorDep, audit: AuditDep) -> AgentStatusRead:
    return await _recorded(audit, "agent.start", agent, await supervisor.start(agent.id))


@router.post("/{agent_id}/stop", response_model=AgentStatusRead)
async def stop_agent(
    agent: ExistingAgent,
    supervisor: SupervisorDep,
    audit: AuditDep,
    force: Annotated[bool, Query(description="Kill at once instead of a graceful stop")] = False,
) -> AgentStatusRead:
    return await _recorded(audit, "agent.stop", agent, await supervisor.stop(agent.id, force=force))


@router.post("/{agent_id}/restart", response_model=AgentStatusRead)
async def restart_agent(agent: ExistingAgent, supervisor: SupervisorDep, audit: AuditDep) -> AgentStatusRead:
    return await _recorded(audit, "agent.restart", agent, await supervisor.restart(agent.id))


def _shown(agent: NamedAgent, status: dict[str, Any]) -> AgentStatusRead:
    """The runtime's status of the agent, naming it as its organisation does."""
    return AgentStatusRead(**{**status, "agent_id": agent.handle})


async def _recorded(audit: Audit, action: str, agent: NamedAgent, status: dict[str, Any]) -> AgentStatusRead:
    read = _shown(agent, status)
    await audit.record_alone(
        action=action, resource_type="agent", resource_id=agent.handle, after={"status": read.status},
    )
    return read
