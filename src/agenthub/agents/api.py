"""Agent routes: thin; validation by schema, logic in the service. The routes that reach the
running agent (update, delete, status, start, stop, restart) are gateway routes:
:mod:`agenthub.lifecycle.api`."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import Annotated

from fastapi import APIRouter, Depends, Path, Query, status

from agenthub.agents import service
from agenthub.agents.schemas import (
    AGENT_ID_PATTERN,
    AgentConfig,
    AgentCreate,
    AgentCreated,
    AgentList,
    AgentRead,
)
from agenthub.audit.deps import AuditDep
from agenthub.deps import CallerDep, SessionDep, SessionFactoryDep, SettingsDep
from agenthub.errors import Forbidden
from agenthub.json_input import StrictJSONRoute
from agenthub.ops.openapi import error_responses
from agenthub.outbound.guard import OutboundGuard

router = APIRouter(prefix="/api/v1/agents", tags=["agents"], route_class=StrictJSONRoute)
AgentId = Annotated[str, Path(pattern=AGENT_ID_PATTERN, description="The agent's id")]


@dataclass(frozen=True, slots=True)
class NamedAgent:
    """An agent of the caller's organisation as a path names it: its internal ``id`` (what
    the runtime, chats and usage go by) and its ``handle`` (what the organisation sees)."""

    id: str
    handle: str


async def _existing_agent(agent_id: AgentId, sessions: SessionFactoryDep, caller: CallerDep) -> NamedAgent:
    """404 unless the caller's organisation has an agent named ``agent_id``. The session is
    closed before the route runs, so routes that go on to the supervisor hold no database
    connection."""
    async with sessions() as session:
        agent = await service.get(session, org_id=caller.org_id, agent_id=agent_id)
        return NamedAgent(id=agent.id, handle=agent.handle)


ExistingAgent = Annotated[NamedAgent, Depends(_existing_agent)]


async def _existing_agent_id(agent: ExistingAgent) -> str:
    return agent.id


ExistingAgentId = Annotated[str, Depends(_existing_agent_id)]
"""The internal id of the agent the path names (404 unless the caller's organisation has it)."""


async def _keys_set(settings: SettingsDep) -> set[str]:
    """The names of the provider settings the server has (never their values)."""
    return {name for name, value in (
        ("OPENAI_API_KEY", settings.openai_api_key), ("OPENROUTER_API_KEY", settings.openrouter_api_key),
        ("OPENAI_BASE_URL", settings.openai_base_url),
    ) if value is not None}


KeysSetDep = Annotated[set[str], Depends(_keys_set)]


# Without a warning the answer is what a read shows (`warning` appears only when there is one).
@router.post(
    "", status_code=status.HTTP_201_CREATED, response_model=AgentCreated, response_model_exclude_none=True,
    responses=error_responses(409),
)
async def create_agent(
    data: AgentCreate, session: SessionDep, caller: CallerDep, settings: SettingsDep, keys_set: KeysSetDep,
    audit: AuditDep,
) -> AgentCreated:
    if caller.agent_ids is not None:
        raise Forbidden("an API key limited to some agents can't create agents")
    retention = timedelta(days=settings.deleted_retention_days)
    agent = await service.create(
        session, org_id=caller.org_id, data=data, retention=retention, caller=caller,
        guard=OutboundGuard.from_settings(settings),
    )
    read = AgentRead.model_validate(agent)  # settings masked
    audit.record(
        session, action="agent.create", resource_type="agent", resource_id=agent.handle, after=read.model_dump(mode="json")
    )
    warning = service.missing_key_warning(agent.settings, keys_set=keys_set)
    return AgentCreated(**read.model_dump(), warning=warning)


@router.get("", response_model=AgentList)
async def list_agents(
    session: SessionDep,
    caller: CallerDep,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
    offset: Annotated[int, Query(ge=0, le=2**31 - 1)] = 0,
) -> AgentList:
    agents, total = await service.list_(
        session, org_id=caller.org_id, limit=limit, offset=offset, only=caller.agent_ids
    )
    return AgentList(items=[AgentRead.model_validate(a) for a in agents], total=total)


@router.get("/{agent_id}", response_model=AgentRead)
async def get_agent(agent_id: AgentId, session: SessionDep, caller: CallerDep) -> AgentRead:
    return AgentRead.model_validate(await service.get(session, org_id=caller.org_id, agent_id=agent_id))


@router.get("/{agent_id}/config", response_model=AgentConfig)
async def get_agent_config(agent_id: AgentId, session: SessionDep, caller: CallerDep) -> AgentConfig:
    return AgentConfig.model_validate(await service.get(session, org_id=caller.org_id, agent_id=agent_id))
