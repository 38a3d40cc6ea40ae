"""``discord.execute_webhook``: a message posted to a Discord webhook URL (a user's
configuration: it goes through the outbound guard, not trusted). Result: ``{"status"}``, and
the message Discord created (``{"id", "channel_id"}``) when the URL asks for it (``?wait=true``)."""

from __future__ import annotations

from typing import Any

import httpx
from pydantic import BaseModel, ConfigDict, Field, model_validator

from agenthub.outbound.guard import OutboundRefused
from agenthub.outbound.http import guarded_client, send_following
from agenthub.scenarios.actions.base import ActionCall, ActionDeps
from agenthub.scenarios.actions.integrations import IntegrationFailed

NAME = "discord.execute_webhook"
DESCRIPTION = "Post a message to a Discord channel through its webhook URL."
TIMEOUT = 15.0


class Config(BaseModel):
    model_config = ConfigDict(extra="forbid")

    webhook_url: str = Field(min_length=1, max_length=2000, description="The channel's webhook URL (https://discord.com/api/webhooks/...)")
    content: str = Field(default="", max_length=2000, description="The message (with substitution)")
    username: str | None = Field(default=None, max_length=80, description="The name it is posted under")
    avatar_url: str | None = Field(default=None, max_length=2000)
    embeds: list[dict[str, Any]] = Field(default_factory=list, max_length=10, description="Discord embeds")

    @model_validator(mode="after")
    def _something(self) -> Config:
        if not self.content.strip() and not self.embeds:
            raise ValueError("content or embeds is needed")
        return self


async def run(config: Config, call: ActionCall, deps: ActionDeps) -> dict[str, Any]:
    payload: dict[str, Any] = {"content": config.content}
    if config.username:
        payload["username"] = config.username
    if config.avatar_url:
        payload["avatar_url"] = config.avatar_url
    if config.embeds:
        payload["embeds"] = config.embeds
    try:
        url = httpx.URL(config.webhook_url.strip())
    except httpx.InvalidURL:
        raise IntegrationFailed("webhook_url is not a valid URL") from None
    if url.scheme not in ("http", "https") or not url.host:
        raise IntegrationFailed("refused: only http:// and https:// URLs may be called")
    try:
        async with guarded_client(deps.guard, trusted=False, timeout=TIMEOUT) as client:
            response = await send_following(client, client.build_request("POST", url, json=payload))
            try:
                await response.aread()
            finally:
                await response.aclose()
    except OutboundRefused as error:
        raise IntegrationFailed(error.message) from None
    except httpx.TimeoutException:
        raise IntegrationFailed("timeout: the webhook did not answer in time") from None
    except httpx.HTTPError as error:
        raise IntegrationFailed(f"the webhook can't be reached: {type(error).__name__}") from None
    if response.status_code >= 400:
        raise IntegrationFailed(f"Discord refused the message: HTTP {response.status_code} {response.text[:300]}")
    result: dict[str, Any] = {"status": response.status_code}
    try:
        created = response.json()
    except ValueError:
        created = None
    if isinstance(created, dict):
        result.update({key: created[key] for key in ("id", "channel_id") if key in created})
    return result
