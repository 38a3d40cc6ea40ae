"""Routes of an agent's Telegram integration: start, stop and status (also under the seed's
``/api/v1/integrations/{agent_id}/{type}/...``), and a link for the logged-in user. Thin:
:mod:`.service` and :mod:`.links` do the work. Any caller who may manage the agent (a member
or API key of its organisation, as for the agent's own start and stop) starts and stops it."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path
from starlette.requests import HTTPConnection

from agenthub.agents.api import ExistingAgent, NamedAgent
from agenthub.audit.deps import AuditDep
from agenthub.audit.service import Audit
from agenthub.channels.telegram import links
from agenthub.channels.telegram.config import TYPE
from agenthub.channels.telegram.schemas import IntegrationStatusRead, TelegramLinkRead
from agenthub.channels.telegram.service import TelegramIntegrations
from agenthub.deps import CallerDep, SessionDep, UserDep
from agenthub.errors import NotFound
from agenthub.json_input import StrictJSONRoute
from agenthub.ops.openapi import error_responses

router = APIRouter(prefix="/api/v1", tags=["integrations"], route_class=StrictJSONRoute)

START_ERRORS = error_responses(409, meanings={
    409: "No Telegram integration in the agent's settings (`not_configured`), its bot token is used by another "
         "agent's running integration (`token_in_use`), or webhook mode without PUBLIC_URL (`public_url_missing`)",
})


async def _integrations(connection: HTTPConnection) -> TelegramIntegrations:
    return connection.app.state.telegram


IntegrationsDep = Annotated[TelegramIntegrations, Depends(_integrations)]


async def _integration_type(
    agent: ExistingAgent, type_: Annotated[str, Path(alias="type", max_length=64, description="`telegram`")],
) -> NamedAgent:
    """The agent, when ``type`` is an integration AgentHub runs (404 otherwise, after the
    agent itself is checked)."""
    if type_ != TYPE:
        raise NotFound(f"no integration of type {type_!r}: AgentHub runs 'telegram'")
    return agent


TypedAgent = Annotated[NamedAgent, Depends(_integration_type)]


def _read(agent: NamedAgent, status: dict[str, Any]) -> IntegrationStatusRead:
    return IntegrationStatusRead(agent_id=agent.handle, **status)


async def _start(agent: NamedAgent, caller: CallerDep, integrations: TelegramIntegrations, audit: Audit) -> Any:
    read = _read(agent, await integrations.start(org_id=caller.org_id, handle=agent.handle))
    await audit.record_alone(
        action="integration.telegram.start", resource_type="agent", resource_id=agent.handle,
        after={"status": read.status},
    )
    return read


async def _stop(agent: NamedAgent, caller: CallerDep, integrations: TelegramIntegrations, audit: Audit) -> Any:
    read = _read(agent, await integrations.stop(org_id=caller.org_id, handle=agent.handle))
    await audit.record_alone(
        action="integration.telegram.stop", resource_type="agent", resource_id=agent.handle,
        after={"status": read.status},
    )
    return read


@router.post(
    "/agents/{agent_id}/integrations/telegram/start", response_model=IntegrationStatusRead, responses=START_ERRORS
)
async def start_telegram(
    agent: ExistingAgent, caller: CallerDep, integrations: IntegrationsDep, audit: AuditDep
) -> IntegrationStatusRead:
    """Start the agent's Telegram bot (its `settings.integrations` entry of type `telegram`):
    `starting`, then `running` once Telegram answered (see the status)."""
    return await _start(agent, caller, integrations, audit)  # type: ignore[no-any-return]


@router.post("/agents/{agent_id}/integrations/telegram/stop", response_model=IntegrationStatusRead)
async def stop_telegram(
    agent: ExistingAgent, caller: CallerDep, integrations: IntegrationsDep, audit: AuditDep
) -> IntegrationStatusRead:
    """Stop the agent's Telegram bot (in webhook mode its webhook is removed)."""
    return await _stop(agent, caller, integrations, audit)  # type: ignore[no-any-return]


@router.get("/agents/{agent_id}/integrations/telegram/status", response_model=IntegrationStatusRead)
async def telegram_status(agent: ExistingAgent, integrations: IntegrationsDep) -> IntegrationStatusRead:
    """`starting`, `running`, `stopped` or `error` (with what went wrong)."""
    return _read(agent, await integrations.status(agent.id))


@router.post("/agents/{agent_id}/integrations/telegram/link", response_model=TelegramLinkRead,
             status_code=201, responses=START_ERRORS)
async def link_telegram(
    agent: ExistingAgent, caller: UserDep, session: SessionDep, integrations: IntegrationsDep
) -> TelegramLinkRead:
    """A one-time code linking your Telegram account to you for this agent's bot: open
    `deep_link` (or send `/start <code>` to the bot) within 15 minutes. The bot then knows
    you as yourself: the agent's access rules apply to you as a member."""
    username = await integrations.bot_username(org_id=caller.org_id, handle=agent.handle)
    code, expires = await links.new_code(
        session, org_id=caller.org_id, agent_id=agent.id, user_id=str(caller.user_id)
    )
    return TelegramLinkRead(
        code=code, deep_link=f"https://t.me/{username}?start={code}", bot_username=username, expires_at=expires,
    )


# The seed's paths: /api/v1/integrations/{agent_id}/{type}/start|stop|status.
@router.post("/integrations/{agent_id}/{type}/start", response_model=IntegrationStatusRead, responses=START_ERRORS)
async def start_integration(
    agent: TypedAgent, caller: CallerDep, integrations: IntegrationsDep, audit: AuditDep
) -> IntegrationStatusRead:
    """As `POST /api/v1/agents/{agent_id}/integrations/telegram/start` (the seed's path)."""
    return await _start(agent, caller, integrations, audit)  # type: ignore[no-any-return]


@router.post("/integrations/{agent_id}/{type}/stop", response_model=IntegrationStatusRead)
async def stop_integration(
    agent: TypedAgent, caller: CallerDep, integrations: IntegrationsDep, audit: AuditDep
) -> IntegrationStatusRead:
    """As `POST /api/v1/agents/{agent_id}/integrations/telegram/stop` (the seed's path)."""
    return await _stop(agent, caller, integrations, audit)  # type: ignore[no-any-return]


@router.get("/integrations/{agent_id}/{type}/status", response_model=IntegrationStatusRead)
async def integration_status(agent: TypedAgent, integrations: IntegrationsDep) -> IntegrationStatusRead:
    """As `GET /api/v1/agents/{agent_id}/integrations/telegram/status` (the seed's path)."""
    return _read(agent, await integrations.status(agent.id))
