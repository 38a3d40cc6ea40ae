"""What a Telegram integration is made of, looked up: the agent's integration settings and
its bot token (revealed from the organisation's credentials)."""

from __future__ import annotations

from agenthub.agents import service as agents_service
from agenthub.agents.models import Agent
from agenthub.agents.schemas import TelegramIntegrationSettings
from agenthub.channels.telegram.config import integration_settings
from agenthub.credentials import service as credentials_service
from agenthub.credentials.secret_box import CredentialBox, SealedWithAnotherKey, SecretBoxKeyMissing
from agenthub.db.engine import SessionFactory
from agenthub.errors import Conflict, InvalidInput, NotFound


async def configured(sessions: SessionFactory, org_id: str, handle: str) -> tuple[Agent, TelegramIntegrationSettings]:
    """The agent and its Telegram integration; Conflict ``not_configured`` without one."""
    async with sessions() as session:
        agent = await agents_service.get(session, org_id=org_id, agent_id=handle)
    integration = integration_settings(agent.settings)
    if integration is None:
        raise Conflict(
            f"agent {handle!r} has no Telegram integration: add one with PATCH /api/v1/agents/{handle} "
            '{"settings": {"integrations": [{"type": "telegram", "settings": {"credential_id": ...}}]}}',
            code="not_configured",
        )
    return agent, integration


async def bot_token(
    sessions: SessionFactory, box: CredentialBox | None, org_id: str, integration: TelegramIntegrationSettings
) -> str:
    """The bot token the integration's credential holds (422 naming the field when it can't be opened)."""
    if box is None:
        raise SecretBoxKeyMissing()
    field_name = "settings.integrations.telegram.credential_id"
    async with sessions() as session:
        try:
            token = await credentials_service.reveal(session, org_id, integration.credential_id, box)
        except NotFound:
            raise InvalidInput(
                f"{field_name}: {integration.credential_id!r} is no credential of the organisation",
                field=field_name,
            ) from None
        except SealedWithAnotherKey:
            raise InvalidInput(
                f"{field_name}: the credential can't be opened with this server's SECRET_BOX_KEY", field=field_name
            ) from None
    return token.strip()
