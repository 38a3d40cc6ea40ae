"""Personal agents (seed 002): an organisation names a template agent, and each member gets
an agent of their own made from it, the first time they use it.

A personal agent is an ordinary agent of the organisation with ``owner_user_id`` set: a copy
of the template's kind and settings (its integrations left out: a Telegram bot or a mailbox
belongs to one agent, not to one per member), id ``p-<the user id's suffix>``, named
"<username>'s agent". Only its owner may chat with it, on every channel
(:func:`check_reach`); the organisation's listing shows it, with its ``owner_user_id``, and
owners and admins manage it (status, stop, delete) like any other agent. Changing or
clearing the template later leaves the personal agents made from it as they are.

Each member's conversation with their agent is one chat, :data:`MAIN_CHAT`, unless the
client names another; a reset deletes its chats and messages (:func:`forget_chats`).
"""

from __future__ import annotations

import re

from sqlalchemy import delete, func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from agenthub.accounts.models import Organization, User
from agenthub.agents import service as agents_service
from agenthub.agents.models import Agent
from agenthub.agents.schemas import mask_settings
from agenthub.audit import service as audit
from agenthub.caller import Caller
from agenthub.chats import service as chats_service
from agenthub.chats.models import Chat, ChatMessage
from agenthub.db.engine import SessionFactory
from agenthub.errors import Conflict, Forbidden, InvalidInput, NotFound

PERSONAL_PREFIX = "p-"
MAIN_CHAT = "personal"
"""The chat a member's messages go to when they name none: one continuing conversation."""
CREATE_ATTEMPTS = 5
"""Tries at making a member's agent while other requests make it (or take its id) at once."""
_NOT_ID = re.compile(r"[^a-z0-9_-]")


# --- the template -------------------------------------------------------------------------
async def _own_organization(session: AsyncSession, *, caller: Caller, org_id: str) -> Organization:
    """The caller's organisation; 404 for any other (never whether it exists)."""
    organization = await session.get(Organization, org_id) if org_id == caller.org_id else None
    if organization is None:
        raise NotFound(f"organisation {org_id!r} not found")
    return organization


async def get_template(session: AsyncSession, *, caller: Caller, org_id: str) -> str | None:
    """The id of the agent the organisation's personal agents are made from, or None."""
    return (await _own_organization(session, caller=caller, org_id=org_id)).template_agent_id


async def set_template(
    session: AsyncSession, *, caller: Caller, org_id: str, agent_id: str | None, address: str | None = None
) -> str | None:
    """Name the organisation's template agent (None clears it). It must be one of the
    organisation's agents and not itself someone's personal agent."""
    organization = await _own_organization(session, caller=caller, org_id=org_id)
    if agent_id is not None:
        try:
            agent = await agents_service.get(session, org_id=org_id, agent_id=agent_id)
        except NotFound:
            raise InvalidInput(f"the organisation has no agent {agent_id!r}", field="agent_id") from None
        if agent.owner_user_id is not None:
            raise InvalidInput(
                f"{agent_id!r} is a member's personal agent; name a shared agent as the template", field="agent_id"
            )
    before = organization.template_agent_id
    if before != agent_id:
        organization.template_agent_id = agent_id
        audit.record(
            session, caller=caller, action="organization.template_agent", resource_type="organization",
            resource_id=org_id, before={"template_agent_id": before}, after={"template_agent_id": agent_id},
            address=address,
        )
        await session.flush()
    return agent_id


# --- who may reach a personal agent -------------------------------------------------------
def check_reach(caller: Caller | None, agent: Agent) -> None:
    """Raise Forbidden unless ``caller`` may chat with ``agent``: a personal agent answers its
    owner alone (no other member, admin, API key or anonymous visitor). Agents that are
    nobody's personal agent are left to the agent's own access rules."""
    if agent.owner_user_id is None:
        return
    if caller is None or not caller.is_user or caller.user_id != agent.owner_user_id:
        raise Forbidden(
            f"{agent.id!r} is a member's personal agent: only that member may chat with it "
            "(each member talks to their own at POST /api/v1/chat/message)"
        )


# --- the caller's own agent ---------------------------------------------------------------
def _user_of(caller: Caller) -> str:
    if not caller.is_user or caller.user_id is None:
        raise Forbidden("a personal agent belongs to a user: this needs a user's access token, not an API key")
    return caller.user_id


async def find_personal_agent(session: AsyncSession, *, org_id: str, user_id: str) -> Agent | None:
    """The member's personal agent, if it was made (and not deleted)."""
    return await session.scalar(
        select(Agent)
        .where(Agent.org_id == org_id, Agent.owner_user_id == user_id, Agent.deleted_at.is_(None))
        .order_by(Agent.created_at, Agent.id)
        .limit(1)
    )


def personal_agent_id(user_id: str) -> str:
    """``p-<suffix>`` for ``usr_<suffix>``: the id a member's agent gets (unless taken)."""
    suffix = _NOT_ID.sub("", user_id.rsplit("_", 1)[-1].lower()) or _NOT_ID.sub("", user_id.lower())
    return f"{PERSONAL_PREFIX}{suffix}"[:56]


async def _free_id(session: AsyncSession, user_id: str) -> str | None:
    """:func:`personal_agent_id`, or ``-2``, ``-3``... after it when another agent (a deleted
    one keeps its id for a while) has it; None when the member's agent is among them, made
    by a request that committed a moment ago. Requests racing for one member pick the same
    id, so the database lets one of them make it."""
    base = personal_agent_id(user_id)
    rows = (await session.execute(
        select(Agent.id, Agent.owner_user_id, Agent.deleted_at).where((Agent.id == base) | Agent.id.like(f"{base}-%"))
    )).all()
    if any(owner == user_id and deleted_at is None for _, owner, deleted_at in rows):
        return None
    taken = {agent_id for agent_id, _, _ in rows}
    candidate, n = base, 1
    while candidate in taken:
        n += 1
        candidate = f"{base}-{n}"
    return candidate


async def _template_of(session: AsyncSession, org_id: str) -> Agent:
    organization = await session.get(Organization, org_id)
    template_id = organization.template_agent_id if organization is not None else None
    if template_id is None:
        raise NotFound(
            "your organisation has no template agent, so there is no personal agent to make for you: "
            f"an owner or admin names one with PUT /api/v1/orgs/{org_id}/template-agent",
            code="no_template",
        )
    try:
        return await agents_service.get(session, org_id=org_id, agent_id=template_id)
    except NotFound:
        raise NotFound(
            f"your organisation's template agent {template_id!r} was deleted: an owner or admin names another "
            f"with PUT /api/v1/orgs/{org_id}/template-agent",
            code="no_template",
        ) from None


async def _make(session: AsyncSession, *, caller: Caller, user_id: str, address: str | None) -> str | None:
    """Add the member's agent, made from the template, with its audit record (not committed);
    its id, or None when another request has just made it."""
    template = await _template_of(session, caller.org_id)
    agent_id = await _free_id(session, user_id)
    if agent_id is None:
        return None
    user = await session.get(User, user_id)
    username = user.username if user is not None else user_id
    settings = dict(template.settings)
    if "integrations" in settings:  # a bot or a mailbox serves one agent, not one per member
        settings["integrations"] = []
    agent = Agent(
        id=agent_id, org_id=caller.org_id, name=f"{username}'s agent"[:200],
        kind=template.kind, settings=settings, config_version=1, owner_user_id=user_id,
    )
    session.add(agent)
    audit.record(
        session, caller=caller, action="agent.create", resource_type="agent", resource_id=agent.id, address=address,
        after={"name": agent.name, "kind": agent.kind, "settings": mask_settings(settings),
               "owner_user_id": user_id, "template_agent_id": template.handle},
    )
    return agent.id


async def ensure_personal_agent(sessions: SessionFactory, *, caller: Caller, address: str | None = None) -> str:
    """The id of the caller's personal agent, made from the template when they have none
    yet (404 ``no_template`` when the organisation names no template). Committed in a
    session of its own before it returns, so any number of concurrent first uses make one
    agent: the others' inserts collide with it and they read it back. Hold no session while
    calling this (SQLite has one connection)."""
    user_id = _user_of(caller)
    for _ in range(CREATE_ATTEMPTS):
        async with sessions() as session:
            existing = await find_personal_agent(session, org_id=caller.org_id, user_id=user_id)
            if existing is not None:
                return existing.id
            agent_id = await _make(session, caller=caller, user_id=user_id, address=address)
            if agent_id is None:
                continue  # made by another request meanwhile: read it back
            try:
                await session.commit()
            except IntegrityError:  # another request made it (or took the id) first: look again
                await session.rollback()
                continue
            return agent_id
    raise Conflict("your personal agent is being made by another request: try again")


# --- its history --------------------------------------------------------------------------
async def history(
    session: AsyncSession, *, caller: Caller, agent_id: str, chat_id: str, limit: int, after_position: int
) -> list[ChatMessage]:
    """The messages of one of the caller's chats with their agent, oldest first; none for a
    chat that has not begun."""
    return await chats_service.list_messages(
        session, org_id=caller.org_id, agent_id=agent_id, chat_id=chat_id, limit=limit,
        after_position=after_position,
    )


async def forget_chats(
    session: AsyncSession, *, caller: Caller, agent_id: str, address: str | None = None
) -> tuple[int, int]:
    """Delete every chat of the caller's agent and its messages; how many of each. Stop the
    agent first: a running one keeps its chats in memory."""
    chats = await session.scalar(
        select(func.count()).select_from(Chat).where(Chat.agent_id == agent_id, Chat.org_id == caller.org_id)
    ) or 0
    removed = await session.execute(delete(ChatMessage).where(ChatMessage.agent_id == agent_id))
    await session.execute(delete(Chat).where(Chat.agent_id == agent_id, Chat.org_id == caller.org_id))
    messages = int(getattr(removed, "rowcount", 0) or 0)
    audit.record(
        session, caller=caller, action="agent.reset", resource_type="agent", resource_id=agent_id, address=address,
        after={"chats_deleted": int(chats), "messages_deleted": messages},
    )
    return int(chats), messages
