"""Authorisations: who may chat with an agent whose ``settings.access`` is ``authorized``
(seed 000's ``agent_user_authorizations``). Each is a ``(channel, platform_user_id)``: a
user on the web ``("web", <user id>)``, an API key ``("web", <key id>)``, a Telegram user
``("telegram", <Telegram id>)``. They are kept whatever the agent's access is, so an agent
can be switched to ``authorized`` with its list ready. No HTTP here."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from agenthub.accounts.models import AgentAuthorization
from agenthub.accounts.secrets import new_id
from agenthub.agents import service as agents_service
from agenthub.db.base import utcnow
from agenthub.errors import Conflict, NotFound


async def grant(
    session: AsyncSession, *, org_id: str, agent_id: str, channel: str, platform_user_id: str
) -> AgentAuthorization:
    """Authorise a sender on the organisation's agent named ``agent_id`` (its handle; the
    row keeps its internal id); Conflict when it is already."""
    agent_id = (await agents_service.get(session, org_id=org_id, agent_id=agent_id)).id
    if await _find(session, agent_id=agent_id, channel=channel, platform_user_id=platform_user_id) is not None:
        raise _duplicate(channel, platform_user_id)
    authorization = AgentAuthorization(
        id=new_id("auth"), org_id=org_id, agent_id=agent_id, channel=channel,
        platform_user_id=platform_user_id, created_at=utcnow(),
    )
    session.add(authorization)
    try:
        await session.flush()
    except IntegrityError as error:  # granted meanwhile
        await session.rollback()
        raise _duplicate(channel, platform_user_id) from error
    return authorization


async def list_(session: AsyncSession, *, org_id: str, agent_id: str) -> list[AgentAuthorization]:
    agent_id = (await agents_service.get(session, org_id=org_id, agent_id=agent_id)).id
    rows = await session.scalars(
        select(AgentAuthorization)
        .where(AgentAuthorization.agent_id == agent_id, AgentAuthorization.org_id == org_id)
        .order_by(AgentAuthorization.created_at, AgentAuthorization.id)
    )
    return list(rows)


async def revoke(session: AsyncSession, *, org_id: str, agent_id: str, authorization_id: str) -> AgentAuthorization:
    agent = await agents_service.get(session, org_id=org_id, agent_id=agent_id)
    authorization = await session.scalar(
        select(AgentAuthorization).where(
            AgentAuthorization.id == authorization_id, AgentAuthorization.agent_id == agent.id,
            AgentAuthorization.org_id == org_id,
        )
    )
    if authorization is None:
        raise NotFound(f"authorization {authorization_id!r} not found for agent {agent_id!r}")
    await session.delete(authorization)
    await session.flush()
    return authorization


async def _find(
    session: AsyncSession, *, agent_id: str, channel: str, platform_user_id: str
) -> AgentAuthorization | None:
    return await session.scalar(
        select(AgentAuthorization).where(
            AgentAuthorization.agent_id == agent_id, AgentAuthorization.channel == channel,
            AgentAuthorization.platform_user_id == platform_user_id,
        )
    )


def _duplicate(channel: str, platform_user_id: str) -> Conflict:
    return Conflict(f"{platform_user_id!r} on {channel!r} is authorised for this agent already")


def described(authorization: AgentAuthorization, *, handle: str) -> dict[str, str]:
    """What the audit log keeps of an authorisation (``handle``: the agent's, as its
    organisation names it)."""
    return {
        "agent_id": handle, "channel": authorization.channel,
        "platform_user_id": authorization.platform_user_id,
    }
