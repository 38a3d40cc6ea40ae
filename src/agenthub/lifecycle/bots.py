"""The bot route that reaches the running bot: delete (a bot is an agent of kind
``scenario``: it is stopped, then deleted as agents are, see :func:`flows.delete_agent`)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, status

from agenthub.audit.deps import AuditDep
from agenthub.deps import CallerDep, SessionDep, SessionFactoryDep
from agenthub.gateway_deps import AgentDirectoryDep, SupervisorDep
from agenthub.json_input import StrictJSONRoute
from agenthub.lifecycle import flows
from agenthub.ops.openapi import error_responses
from agenthub.scenarios import service as bots_service

router = APIRouter(prefix="/api/v1/bots", tags=["bots"], route_class=StrictJSONRoute)


@router.delete("/{bot_id}", status_code=status.HTTP_204_NO_CONTENT, responses=error_responses(404))
async def delete_bot(
    bot_id: Annotated[str, Path(min_length=1, max_length=64, description="The bot's id")],
    caller: CallerDep, sessions: SessionFactoryDep, session: SessionDep, audit: AuditDep,
    supervisor: SupervisorDep, directory: AgentDirectoryDep,
) -> None:
    """Stop the bot and delete it (its agent too): its sessions end; its id stays taken
    until the deleted agent is purged (DELETED_RETENTION_DAYS)."""
    async with sessions() as lookup:  # closed before the supervisor is reached
        bot = await bots_service.bot_of(lookup, caller, bot_id)
    await flows.delete_agent(
        session=session, supervisor=supervisor, audit=audit, directory=directory, agent_id=bot.id, handle=bot.id,
    )
