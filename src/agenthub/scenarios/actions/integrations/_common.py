"""What several integrations use: a credential's value, and errors without secrets."""

from __future__ import annotations

from collections.abc import Iterable

from agenthub.credentials import service as credentials_service
from agenthub.errors import AgentHubError
from agenthub.scenarios.actions.base import ActionCall, ActionDeps
from agenthub.scenarios.actions.integrations import IntegrationFailed


async def credential(call: ActionCall, deps: ActionDeps, credential_id: str) -> str:
    """The plain value of the organisation's credential ``credential_id``; IntegrationFailed
    when there is none (another organisation's included) or no key to open it."""
    if deps.box is None:
        raise IntegrationFailed("credentials can't be opened here: SECRET_BOX_KEY is not set")
    try:
        async with deps.sessions() as session:
            return await credentials_service.reveal(session, call.org_id, credential_id, deps.box)
    except AgentHubError as error:
        raise IntegrationFailed(error.message) from None


def scrub(text: str, secrets: Iterable[str | None]) -> str:
    """``text`` with every secret in it masked (client libraries' errors may quote them)."""
    for secret in secrets:
        if secret:
            text = text.replace(secret, "***")
    return text
