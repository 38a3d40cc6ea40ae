"""The organisation's template agent, which members' personal agents are made from:
``GET``/``PUT /api/v1/orgs/{org_id}/template-agent``. Thin: the logic is in
:mod:`agenthub.access.personal`. The routes that talk to the caller's own agent are
gateway routes: :mod:`agenthub.channels.personal`."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Request

from agenthub.access import personal
from agenthub.access.personal_schemas import TemplateAgentRead, TemplateAgentSet
from agenthub.deps import AdminDep, CallerDep, SessionDep
from agenthub.json_input import StrictJSONRoute
from agenthub.ops.openapi import error_responses

router = APIRouter(prefix="/api/v1/orgs", tags=["personal agents"], route_class=StrictJSONRoute)
OrgId = Annotated[str, Path(min_length=1, max_length=64, description="The organisation's id")]


def client_address(request: Request) -> str | None:
    return request.client.host if request.client else None


@router.get("/{org_id}/template-agent", response_model=TemplateAgentRead)
async def get_template_agent(org_id: OrgId, session: SessionDep, caller: CallerDep) -> TemplateAgentRead:
    agent_id = await personal.get_template(session, caller=caller, org_id=org_id)
    return TemplateAgentRead(org_id=org_id, agent_id=agent_id)


@router.put(
    "/{org_id}/template-agent", response_model=TemplateAgentRead,
    responses=error_responses(403, meanings={403: "Only an owner or admin of the organisation may do this"}),
)
async def set_template_agent(
    org_id: OrgId, data: TemplateAgentSet, session: SessionDep, caller: AdminDep, http: Request
) -> TemplateAgentRead:
    """Name the agent each member's personal agent is made from (on their first use of
    `/api/v1/chat/message`, `/chat/history`, `/agent/status` or `/agent/reset`); `null`
    clears it. Personal agents made already keep what they were made from."""
    agent_id = await personal.set_template(
        session, caller=caller, org_id=org_id, agent_id=data.agent_id, address=client_address(http)
    )
    return TemplateAgentRead(org_id=org_id, agent_id=agent_id)
