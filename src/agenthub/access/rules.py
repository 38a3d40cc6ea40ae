"""Who may chat with an agent, and who a message is from.

An agent's ``settings.access`` says who may start a turn with it:

- ``organization`` (the default, also for agents stored before access existed): any user
  or API key of the agent's organisation;
- ``public``: anyone, from any organisation or logged in not at all;
- ``authorized``: only senders on the agent's list of authorisations, each a
  ``(channel, platform_user_id)``: a user on the web is ``("web", <user id>)``, an API key
  ``("web", <key id>)`` (so a key reaches such an agent only when an admin grants it, and a
  member who may not chat with it can't get round that with a key of their own), a
  Telegram user ``("telegram", <Telegram id>)``.

Refusals say as little as they can: an anonymous visitor of an agent that is not public (or
not there) is asked to log in (401); a caller of another organisation, or an API key limited
to other agents, gets 404 for an agent that is not public, as for one that does not exist;
only a caller who may see the agent (its organisation's) learns that it needs an
authorisation (403).

Naming: a caller of the agent's own organisation names it by its handle (the id the
organisation gave it); anyone else names it by its internal id (its ``address``, equal to
the handle unless another organisation had that id first). A name is looked up as the
caller's organisation's handle first, then as an address.

Who a message is from is the authenticated caller, never what the client says: a user's
id, an API key's id, or, for an anonymous visitor, ``anonymous:<client address>``.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from agenthub.accounts.models import AgentAuthorization
from agenthub.agents.directory import AgentDirectory, AgentSummary
from agenthub.agents.schemas import DEFAULT_ACCESS
from agenthub.caller import Caller
from agenthub.chats import service as chats_service
from agenthub.db.engine import SessionFactory
from agenthub.errors import Forbidden, NotFound, Unauthorized

WEB = "web"
ANONYMOUS = "anonymous:"
"""The start of an anonymous visitor's ``platform_user_id``; the client's address follows."""


@dataclass(frozen=True, slots=True)
class Sender:
    """Who a message is from, as the platform knows it."""

    channel: str
    platform_user_id: str
    user_id: str | None = None
    api_key_id: str | None = None

    @property
    def anonymous(self) -> bool:
        return self.user_id is None and self.api_key_id is None


@dataclass(frozen=True, slots=True)
class Reach:
    """An agent the sender may chat with."""

    agent_id: str
    """Its internal id: what the runtime, the bus, chats and usage know it by."""
    org_id: str
    """The agent's organisation: its chats and usage are that organisation's."""
    access: str
    sender: Sender
    member: bool
    """The caller belongs to the agent's organisation (a public agent is also reached by others)."""
    handle: str = ""
    """What the caller names it by: the organisation's handle for a member, else its address."""


def web_sender(caller: Caller | None, address: str | None) -> Sender:
    """Who a message over the WebSocket or SSE is from: the caller, or, for an anonymous
    visitor, ``anonymous:<client address>``."""
    if caller is None:
        return Sender(WEB, f"{ANONYMOUS}{address or 'unknown'}")
    if caller.api_key_id is not None:
        return Sender(WEB, caller.api_key_id, api_key_id=caller.api_key_id)
    return Sender(WEB, caller.user_id or "", user_id=caller.user_id)


async def reach(
    *, caller: Caller | None, agent_id: str, sender: Sender, agents: AgentDirectory, sessions: SessionFactory,
    fresh: bool = False,
) -> Reach:
    """The agent if ``caller`` (None: anonymous) may chat with it as ``sender``; else
    Unauthorized, NotFound or Forbidden, as the module says. The agent is looked up in
    ``agents`` (a cache, unless ``fresh``); only an ``authorized`` agent's list is read
    from the database."""
    if caller is not None and not caller.may_reach(agent_id):
        raise NotFound(f"agent {agent_id!r} not found")
    agent = await _named(caller=caller, agent_id=agent_id, agents=agents, fresh=fresh)
    access = str(agent.access or DEFAULT_ACCESS) if agent is not None else None
    member = agent is not None and caller is not None and caller.org_id == agent.org_id
    if member and agent is not None and caller is not None and not caller.may_reach(agent.handle):
        agent = None  # its own agent by its address, but the key is limited to others
    if agent is None or (access != "public" and not member):
        if caller is None:
            raise Unauthorized(
                "log in first: this agent is not public (send 'Authorization: Bearer <access token or API key>')"
            )
        raise NotFound(f"agent {agent_id!r} not found")
    owner = agent.owner_user_id  # a member's personal agent answers that member alone
    if owner is not None and (caller is None or not caller.is_user or caller.user_id != owner):
        raise Forbidden(
            f"{agent_id!r} is a member's personal agent: only that member may chat with it "
            "(each member talks to their own at POST /api/v1/chat/message)"
        )
    if access == "authorized":
        async with sessions() as session:
            authorized = await is_authorized(
                session, agent_id=agent.id, channel=sender.channel, platform_user_id=sender.platform_user_id
            )
        if not authorized:
            raise Forbidden(
                f"you are not authorised to chat with agent {agent_id!r}: ask an admin of its organisation"
            )
    return Reach(
        agent_id=agent.id, org_id=agent.org_id, access=str(access), sender=sender, member=member,
        handle=agent.handle if member else agent.id,
    )


async def _named(
    *, caller: Caller | None, agent_id: str, agents: AgentDirectory, fresh: bool
) -> AgentSummary | None:
    """The agent ``agent_id`` names for ``caller``: its organisation's agent of that handle
    if it has one, else the agent of that internal id (its address), whoever's; None when
    there is neither."""
    if caller is not None:
        try:
            return await agents.get(org_id=caller.org_id, agent_id=agent_id, fresh=fresh)
        except NotFound:
            pass
    try:
        return await agents.find(agent_id, fresh=fresh)
    except NotFound:
        return None


async def is_authorized(session: AsyncSession, *, agent_id: str, channel: str, platform_user_id: str) -> bool:
    found = await session.scalar(
        select(AgentAuthorization.id).where(
            AgentAuthorization.agent_id == agent_id, AgentAuthorization.channel == channel,
            AgentAuthorization.platform_user_id == platform_user_id,
        )
    )
    return found is not None


async def check_chat(session: AsyncSession, *, reach: Reach, chat_id: str) -> None:
    """NotFound when a caller from outside the agent's organisation (a public agent's
    visitor) names a chat someone else wrote in: visitors neither read nor join each
    other's chats. Members of the organisation share its chats, as its history routes do."""
    if reach.member:
        return
    if await chats_service.has_other_senders(
        session, agent_id=reach.agent_id, chat_id=chat_id, platform_user_id=reach.sender.platform_user_id
    ):
        raise NotFound(f"chat {chat_id!r} not found for agent {(reach.handle or reach.agent_id)!r}")
