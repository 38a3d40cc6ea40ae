"""Usage routes."""

from __future__ import annotations

from fastapi import APIRouter

from agenthub.agents import service as agents_service
from agenthub.agents.api import AgentId
from agenthub.billing import service
from agenthub.billing.schemas import OrgUsage, UsageTotals
from agenthub.deps import CallerDep, SessionDep

router = APIRouter(prefix="/api/v1", tags=["usage"])


@router.get("/agents/{agent_id}/usage", response_model=UsageTotals)
async def agent_usage(agent_id: AgentId, session: SessionDep, caller: CallerDep) -> UsageTotals:
    await agents_service.get(session, org_id=caller.org_id, agent_id=agent_id)
    totals = await service.totals_for_agent(session, org_id=caller.org_id, agent_id=agent_id)
    return UsageTotals(agent_id=agent_id, **totals)


@router.get("/usage", response_model=OrgUsage)
async def org_usage(session: SessionDep, caller: CallerDep) -> OrgUsage:
    """Usage of the caller's organisation, deleted agents included."""
    return OrgUsage(**await service.totals_for_org(session, org_id=caller.org_id))
