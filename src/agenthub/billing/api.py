"""Usage routes."""

from __future__ import annotations

from fastapi import APIRouter

from agenthub.agents import service as agents_service
from agenthub.agents.api import AgentId
from agenthub.billing import service
from agenthub.billing.schemas import UsageTotals
from agenthub.deps import OrgDep, SessionDep

router = APIRouter(prefix="/api/v1/agents", tags=["usage"])


@router.get("/{agent_id}/usage", response_model=UsageTotals)
async def agent_usage(agent_id: AgentId, session: SessionDep, org_id: OrgDep) -> UsageTotals:
    await agents_service.get(session, org_id=org_id, agent_id=agent_id)
    totals = await service.totals_for_agent(session, org_id=org_id, agent_id=agent_id)
    return UsageTotals(agent_id=agent_id, **totals)
