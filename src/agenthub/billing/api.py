"""Usage routes."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from agenthub.agents import service as agents_service
from agenthub.agents.api import AgentId
from agenthub.billing import service, usage
from agenthub.billing.schemas import Day, OrgUsage, UsageReport, UsageTotals, UserUsage
from agenthub.deps import AdminDep, CallerDep, SessionDep, UserDep
from agenthub.ops.openapi import error_responses

router = APIRouter(prefix="/api/v1", tags=["usage"])


@router.get("/agents/{agent_id}/usage", response_model=UsageTotals)
async def agent_usage(agent_id: AgentId, session: SessionDep, caller: CallerDep) -> UsageTotals:
    agent = await agents_service.get(session, org_id=caller.org_id, agent_id=agent_id)
    totals = await service.totals_for_agent(session, org_id=caller.org_id, agent_id=agent.id)
    return UsageTotals(agent_id=agent_id, **totals)


@router.get("/usage", response_model=OrgUsage)
async def org_usage(session: SessionDep, caller: CallerDep) -> OrgUsage:
    """Usage of the caller's organisation, deleted agents included (for an API key limited
    to some agents, theirs alone)."""
    return OrgUsage(**await service.totals_for_org(session, org_id=caller.org_id, agent_ids=caller.agent_ids))


Since = Annotated[Day | None, Query(alias="from", description="First day (UTC), YYYY-MM-DD")]
Until = Annotated[Day | None, Query(alias="to", description="Last day (UTC), YYYY-MM-DD, included")]


@router.get(
    "/usage/report", response_model=UsageReport,
    responses=error_responses(403, meanings={403: "Only an owner or admin of the organisation may (not an API key)"}),
)
async def org_usage_report(session: SessionDep, caller: AdminDep, since: Since = None, until: Until = None) -> UsageReport:
    """The organisation's usage over days (owners and admins): in total, per day, per agent
    (deleted ones included) and per model, of every member, API key and end user, optionally
    ``?from=YYYY-MM-DD&to=YYYY-MM-DD``; ``from`` after ``to`` is an empty range."""
    return UsageReport(**await usage.for_org(session, org_id=caller.org_id, since=since, until=until))


@router.get(
    "/user/usage", response_model=UserUsage,
    responses=error_responses(403, meanings={403: "An API key has no usage of its own here: use GET /api/v1/usage"}),
)
async def user_usage(
    session: SessionDep,
    caller: UserDep,
    since: Since = None,
    until: Until = None,
) -> UserUsage:
    """Your own usage (a user's access token, not an API key): in total, per day, per agent
    and per model; ``from`` after ``to`` is an empty range."""
    report = await usage.for_user(
        session, org_id=caller.org_id, user_id=caller.user_id or "", since=since, until=until
    )
    return UserUsage(**report)
