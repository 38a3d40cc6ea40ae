"""Agent routes that reach the running agent: update (which says whether a restart is
needed), delete, status, start, stop, restart. Thin: flows and the supervisor do the work."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, status

from agenthub.agents import service as agents_service
from agenthub.agents.api import AgentId, ExistingAgentId, KeysSetDep
from agenthub.agents.schemas import AgentRead, AgentStatusRead, AgentUpdate, AgentUpdated
from agenthub.deps import CallerDep, SessionDep
from agenthub.gateway_deps import AgentDirectoryDep, SupervisorDep
from agenthub.json_input import StrictJSONRoute
from agenthub.lifecycle import flows

router = APIRouter(prefix="/api/v1/agents", tags=["agents"], route_class=StrictJSONRoute)


@router.patch("/{agent_id}", response_model=AgentUpdated, response_model_exclude_none=True)
async def update_agent(
    agent_id: AgentId, data: AgentUpdate, session: SessionDep, caller: CallerDep, supervisor: SupervisorDep,
    directory: AgentDirectoryDep, keys_set: KeysSetDep,
) -> AgentUpdated:
    updated = await flows.update_agent(
        session=session, supervisor=supervisor, directory=directory, caller=caller, agent_id=agent_id, data=data
    )
    return AgentUpdated(
        **AgentRead.model_validate(updated.agent).model_dump(),
        restart_required=updated.restart_required,
        message=updated.message,
        warning=agents_service.missing_key_warning(updated.agent.settings, keys_set=keys_set),
    )


@router.delete("/{agent_id}", status_code=status.HTTP_204_NO_CONTENT)
async def delete_agent(
    agent_id: ExistingAgentId, session: SessionDep, caller: CallerDep, supervisor: SupervisorDep,
    directory: AgentDirectoryDep,
) -> None:
    await flows.delete_agent(
        session=session, supervisor=supervisor, directory=directory, caller=caller, agent_id=agent_id
    )


@router.get("/{agent_id}/status", response_model=AgentStatusRead)
async def get_agent_status(agent_id: ExistingAgentId, supervisor: SupervisorDep) -> AgentStatusRead:
    return AgentStatusRead(**await supervisor.statuses.describe(agent_id))


@router.post("/{agent_id}/start", response_model=AgentStatusRead)
async def start_agent(agent_id: ExistingAgentId, supervisor: SupervisorDep) -> AgentStatusRead:
    return AgentStatusRead(**await supervisor.start(agent_id))


@router.post("/{agent_id}/stop", response_model=AgentStatusRead)
async def stop_agent(
    agent_id: ExistingAgentId,
    supervisor: SupervisorDep,
    force: Annotated[bool, Query(description="Kill at once instead of a graceful stop")] = False,
) -> AgentStatusRead:
    return AgentStatusRead(**await supervisor.stop(agent_id, force=force))


@router.post("/{agent_id}/restart", response_model=AgentStatusRead)
async def restart_agent(agent_id: ExistingAgentId, supervisor: SupervisorDep) -> AgentStatusRead:
    return AgentStatusRead(**await supervisor.restart(agent_id))
