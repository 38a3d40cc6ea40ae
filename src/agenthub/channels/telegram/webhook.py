"""``POST /api/v1/agents/{agent_id}/integrations/telegram/webhook``: where Telegram posts an
agent's updates in webhook mode. No login: Telegram proves itself with the
``X-Telegram-Bot-Api-Secret-Token`` registered with the webhook. A missing or wrong one is
401, and so is every request for an agent whose bot does not run in webhook mode (the
answer tells nobody which agents have bots).

Any replica takes it: the secret is checked against the digest the running bot published
in its status on the bus, and the update goes on the bot's bus stream, where the process
running the bot takes it (once) and answers it. Telegram gets its 200 at once and does not
post it again."""

from __future__ import annotations

import json
from typing import Annotated

from fastapi import APIRouter, Header, Request
from telegram import Update

from agenthub.agents.api import AgentId
from agenthub.channels.telegram.api import IntegrationsDep
from agenthub.channels.telegram.config import SECRET_HEADER
from agenthub.channels.telegram.webhook_check import accepted
from agenthub.errors import InvalidInput, Unauthorized
from agenthub.ops.openapi import PUBLIC, error_responses

router = APIRouter(prefix="/api/v1/agents", tags=["integrations"])


@router.post(
    "/{agent_id}/integrations/telegram/webhook", openapi_extra=PUBLIC, responses=error_responses(401),
)
async def telegram_webhook(
    agent_id: AgentId,
    request: Request,
    integrations: IntegrationsDep,
    secret: Annotated[str | None, Header(alias=SECRET_HEADER, include_in_schema=False)] = None,
) -> dict[str, bool]:
    """Telegram's updates for the agent's bot (its internal id, as registered)."""
    if not secret or not await accepted(request.scope, integrations, agent_id, secret):
        raise Unauthorized(f"missing or wrong {SECRET_HEADER}")
    try:
        data = json.loads(await request.body())
        if not isinstance(data, dict):
            raise TypeError("not an object")
        update = Update.de_json(data, None)
    except (ValueError, TypeError, KeyError, AttributeError) as error:
        raise InvalidInput(f"not a Telegram update: {type(error).__name__}") from None
    if update is not None:
        await integrations.hand_over(agent_id, data)
    return {"ok": True}
