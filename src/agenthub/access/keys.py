"""Making an API key, which may name agents: they must be the organisation's."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy.ext.asyncio import AsyncSession

from agenthub.accounts import api_keys
from agenthub.accounts.models import ApiKey
from agenthub.agents import service as agents_service
from agenthub.caller import Caller
from agenthub.errors import NotFound


async def create_key(
    session: AsyncSession, *, caller: Caller, name: str, agent_ids: Sequence[str] | None
) -> tuple[ApiKey, str]:
    """A new key of the caller's organisation (see :func:`agenthub.accounts.api_keys.create`);
    NotFound naming the ``agent_ids`` that are not agents of the organisation (another
    organisation's agent reads as one that does not exist)."""
    if agent_ids is not None:
        found = await agents_service.existing_ids(session, org_id=caller.org_id, agent_ids=agent_ids)
        unknown = [agent_id for agent_id in dict.fromkeys(agent_ids) if agent_id not in found]
        if unknown:
            raise NotFound(f"agent_ids: no such agent: {', '.join(unknown)}")
    return await api_keys.create(session, caller=caller, name=name, agent_ids=agent_ids)
