"""Whether a post to an agent's webhook route carries its bot's secret: asked once per
request. The rate-limit middleware asks first (Telegram's posts are not counted) and the
route asks again; the answer is kept in the request's scope, so the bus is read once."""

from __future__ import annotations

from collections.abc import MutableMapping
from typing import Any, Protocol

_ACCEPTED = "agenthub.telegram_webhook_accepted"


class WebhookSecrets(Protocol):
    async def webhook_accepts(self, agent_id: str, secret: str) -> bool: ...


async def accepted(scope: MutableMapping[str, Any], integrations: WebhookSecrets, agent_id: str, secret: str) -> bool:
    """:meth:`~agenthub.channels.telegram.service.TelegramIntegrations.webhook_accepts`,
    remembered for this request (its scope) and this agent."""
    answers: dict[str, bool] = scope.setdefault("state", {}).setdefault(_ACCEPTED, {})
    if agent_id not in answers:
        answers[agent_id] = bool(await integrations.webhook_accepts(agent_id, secret))
    return answers[agent_id]
