"""A Telegram integration as an agent's settings describe it, and what follows from them:
the Bot API root, the webhook's address and its secret.

The settings schema itself (``{"credential_id", "mode", "webhook_secret"?}``) lives with the
agents' settings (:class:`agenthub.agents.schemas.TelegramIntegrationSettings`): it is
checked when an agent is created or changed, below this package."""

from __future__ import annotations

import hashlib
import hmac
import time
from typing import Any

from agenthub.agents.schemas import TelegramIntegrationSettings
from agenthub.config import Settings

TYPE = "telegram"
"""The integration's ``type`` in ``settings.integrations`` and in its routes."""
TELEGRAM_API = "https://api.telegram.org"
MAX_MESSAGE = 4096
"""Characters (UTF-16 code units) a Telegram message may hold."""
WEBHOOK_PATH = "/api/v1/agents/{agent_id}/integrations/telegram/webhook"
SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"


def integration_settings(agent_settings: dict[str, Any]) -> TelegramIntegrationSettings | None:
    """The agent's Telegram integration, or None when it has none."""
    for integration in agent_settings.get("integrations") or []:
        if integration.get("type") == TYPE:
            return TelegramIntegrationSettings.model_validate(integration.get("settings") or {})
    return None


def api_base_url(settings: Settings) -> str:
    """What python-telegram-bot's ``base_url`` takes: the Bot API root and ``/bot``."""
    root = (settings.telegram_api_base_url or TELEGRAM_API).rstrip("/")
    return f"{root}/bot"


def api_file_url(settings: Settings) -> str:
    """What python-telegram-bot's ``base_file_url`` takes: where files users send are downloaded."""
    root = (settings.telegram_api_base_url or TELEGRAM_API).rstrip("/")
    return f"{root}/file/bot"


def webhook_url(settings: Settings, agent_id: str) -> str | None:
    """Where Telegram posts the updates of ``agent_id`` (its internal id: the route needs no
    login, so no organisation names it by its handle); None without ``PUBLIC_URL``. Behind a
    proxy serving AgentHub under ``ROOT_PATH``, the URL carries the prefix (once, whether
    ``PUBLIC_URL`` ends with it or not)."""
    base = settings.public_base_url
    return None if base is None else base + WEBHOOK_PATH.format(agent_id=agent_id)


def webhook_secret(integration: TelegramIntegrationSettings, *, token: str, agent_id: str) -> str:
    """The ``secret_token`` Telegram sends back with each update: the configured one, else
    one derived from the bot token (stable across restarts, known to nobody without it)."""
    if integration.webhook_secret:
        return integration.webhook_secret
    return hmac.new(token.encode(), f"agenthub-webhook:{agent_id}".encode(), hashlib.sha256).hexdigest()


def token_fingerprint(token: str) -> str:
    """A name for a bot token that is not the token (the lease of who runs it)."""
    return hashlib.sha256(token.encode()).hexdigest()[:32]


def secret_digest(secret: str) -> str:
    """What a running webhook bot publishes of its secret (in its status, on the bus), for
    any replica's webhook route to check a request against: its SHA-256, not the secret."""
    return hashlib.sha256(secret.encode()).hexdigest()


def status_value(status: str, *, mode: str | None, **extra: Any) -> dict[str, Any]:
    """A bot's status as the bus key ``integration_status:{agent_id}:telegram`` holds it."""
    return {"status": status, "mode": mode, "updated_at": time.time(), **extra}
