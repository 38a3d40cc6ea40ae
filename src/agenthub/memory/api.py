"""Memory routes: an agent's core memory blocks for one user, read and replaced by people.

``user_id`` is whose memory (default: the caller's own: a user's account, an API key's
``web:<key id>``); another user's memory is for the organisation's owners and admins only
(403 for anyone else). The agent must be one of the caller's organisation (404 otherwise).
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from agenthub.agents import service as agents_service
from agenthub.agents.api import AgentId
from agenthub.audit.deps import AuditDep
from agenthub.caller import Caller
from agenthub.deps import CallerDep, SessionDep
from agenthub.errors import Forbidden
from agenthub.json_input import StrictJSONRoute
from agenthub.memory import service
from agenthub.memory.schemas import USER_KEY_PATTERN, BlockRead, MemoryRead, MemoryWrite
from agenthub.ops.openapi import error_responses

router = APIRouter(prefix="/api/v1/agents/{agent_id}/memory", tags=["memory"], route_class=StrictJSONRoute)
UserKey = Annotated[
    str | None,
    Query(
        pattern=USER_KEY_PATTERN,
        description="Whose memory: a user's id, or `<channel>:<platform user id>` for a user without an account "
        "(`telegram:42`); default: yours. Another user's: owners and admins only",
    ),
]
MEANINGS = {403: "Another user's memory, and the caller is no owner or admin", 404: "No such agent in your organisation"}


def _whose(caller: Caller, user_id: str | None) -> str:
    own = caller.user_id if caller.is_user else f"web:{caller.api_key_id}"
    whose = user_id or own
    if whose != own and not (caller.is_user and caller.at_least("admin")):
        raise Forbidden("only owners and admins of the organisation may read or change another user's memory")
    return str(whose)


def _read(blocks: list[service.Block]) -> MemoryRead:
    return MemoryRead(blocks=[BlockRead(label=b.label, value=b.value, limit=b.limit) for b in blocks])


@router.get("", response_model=MemoryRead, responses=error_responses(403, 404, meanings=MEANINGS))
async def get_memory(agent_id: AgentId, caller: CallerDep, session: SessionDep, user_id: UserKey = None) -> MemoryRead:
    """The user's core memory blocks with this agent (those not made yet as they would start)."""
    agent = await agents_service.get(session, org_id=caller.org_id, agent_id=agent_id)
    whose = _whose(caller, user_id)
    return _read(await service.blocks(
        session, agent_id=agent.id, user_key=whose, agent_settings=agent.settings, create=False
    ))


@router.put("", response_model=MemoryRead, responses=error_responses(403, 404, meanings=MEANINGS))
async def put_memory(
    agent_id: AgentId, data: MemoryWrite, caller: CallerDep, session: SessionDep, audit: AuditDep,
    user_id: UserKey = None,
) -> MemoryRead:
    """Replace the blocks named (by label; a new label adds a block); the others are kept.
    A value longer than its limit is refused (422) and nothing changes."""
    agent = await agents_service.get(session, org_id=caller.org_id, agent_id=agent_id)
    whose = _whose(caller, user_id)
    blocks = await service.put_blocks(
        session, agent_id=agent.id, user_key=whose, agent_settings=agent.settings, data=data.blocks
    )
    audit.record(
        session, action="memory.update", resource_type="agent_memory", resource_id=agent.handle,
        after={"user_id": whose, "labels": [block.label for block in data.blocks]},
    )
    return _read(blocks)
