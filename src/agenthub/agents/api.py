"""Agent routes: thin; validation by schema, logic in the service and the supervisor."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Path, Query, Request, status

from agenthub.agents import service
from agenthub.agents.schemas import (
    AGENT_ID_PATTERN,
    AgentConfig,
    AgentCreate,
    AgentCreated,
    AgentList,
    AgentRead,
    AgentStatusRead,
    AgentUpdate,
    AgentUpdated,
)
from agenthub.deps import OrgDep, SessionDep, SessionFactoryDep, SupervisorDep
from agenthub.json_input import StrictJSONRoute

router = APIRouter(prefix="/api/v1/agents", tags=["agents"], route_class=StrictJSONRoute)
AgentId = Annotated[str, Path(pattern=AGENT_ID_PATTERN, description="The agent's id")]


async def _existing_agent_id(agent_id: AgentId, sessions: SessionFactoryDep, org_id: OrgDep) -> str:
    """404 unless the caller's organisation has the agent. The session is closed before the
    route runs, so routes that go on to the supervisor hold no database connection."""
    async with sessions() as session:
        await service.get(session, org_id=org_id, agent_id=agent_id)
    return agent_id


ExistingAgentId = Annotated[str, Depends(_existing_agent_id)]


def _keys_set(request: Request) -> set[str]:
    """The names of the provider keys the server has (never their values)."""
    settings = request.app.state.settings
    return {name for name, value in (
        ("OPENAI_API_KEY", settings.openai_api_key), ("OPENROUTER_API_KEY", settings.openrouter_api_key),
    ) if value is not None}


KeysSetDep = Annotated[set[str], Depends(_keys_set)]


# Without a warning the answer is what a read shows (`warning` appears only when there is one).
@router.post("", status_code=status.HTTP_201_CREATED, response_model=AgentCreated, response_model_exclude_none=True)
async def create_agent(data: AgentCreate, session: SessionDep, org_id: OrgDep, keys_set: KeysSetDep) -> AgentCreated:
    agent = await service.create(session, org_id=org_id, data=data)
    warning = service.missing_key_warning(agent.settings, keys_set=keys_set)
    return AgentCreated(**AgentRead.model_validate(agent).model_dump(), warning=warning)


@router.get("", response_model=AgentList)
async def list_agents(
    session: SessionDep,
    org_id: OrgDep,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
    offset: Annotated[int, Query(ge=0, le=2**31 - 1)] = 0,
) -> AgentList:
    agents, total = await service.list_(session, org_id=org_id, limit=limit, offset=offset)
    return AgentList(items=[AgentRead.model_validate(a) for a in agents], total=total)


@router.get("/{agent_id}", response_model=AgentRead)
async def get_agent(agent_id: AgentId, session: SessionDep, org_id: OrgDep) -> AgentRead:
    return AgentRead.model_validate(await service.get(session, org_id=org_id, agent_id=agent_id))


@router.patch("/{agent_id}", response_model=AgentUpdated, response_model_exclude_none=True)
async def update_agent(
    agent_id: AgentId, data: AgentUpdate, session: SessionDep, org_id: OrgDep, supervisor: SupervisorDep,
    keys_set: KeysSetDep,
) -> AgentUpdated:
    agent, changed = await service.update(session, org_id=org_id, agent_id=agent_id, data=data)
    current = await supervisor.statuses.get(agent_id)
    running = current.get("status") in ("starting", "running")
    stale = running and current.get("config_version") != agent.config_version
    if not changed:
        message = "Nothing changed." + (
            " The agent is still running an older config and takes this one on its next restart." if stale else ""
        )
    elif stale:
        message = "Saved. The agent is running an older config and takes this one on its next restart."
    else:
        message = "Saved."
    return AgentUpdated(
        **AgentRead.model_validate(agent).model_dump(), restart_required=stale, message=message,
        warning=service.missing_key_warning(agent.settings, keys_set=keys_set),
    )


@router.delete("/{agent_id}", status_code=status.HTTP_204_NO_CONTENT)
async def delete_agent(
    agent_id: ExistingAgentId, session: SessionDep, org_id: OrgDep, supervisor: SupervisorDep
) -> None:
    await supervisor.stop(agent_id, force=False, announce=False)  # forget() says it was deleted
    await service.delete(session, org_id=org_id, agent_id=agent_id)
    await supervisor.forget(agent_id)


@router.get("/{agent_id}/config", response_model=AgentConfig)
async def get_agent_config(agent_id: AgentId, session: SessionDep, org_id: OrgDep) -> AgentConfig:
    return AgentConfig.model_validate(await service.get(session, org_id=org_id, agent_id=agent_id))


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
