"""The Telegram integration's routes as clients read them."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, Field


class IntegrationStatusRead(BaseModel):
    agent_id: str
    type: str = "telegram"
    status: Literal["starting", "running", "stopped", "error"]
    mode: Literal["polling", "webhook"] | None = None
    error: str | None = Field(default=None, description="What went wrong (on `error`, and while retrying)")
    bot_username: str | None = None
    updated_at: datetime | None = Field(default=None, description="When the status last changed")
    pid: int | None = Field(
        default=None, description="The bot's own process (on Redis, where each running bot is a process of its own)",
    )


class TelegramLinkRead(BaseModel):
    code: str = Field(description="Good once, until `expires_at`: send `/start <code>` to the bot")
    deep_link: str = Field(description="https://t.me/<bot>?start=<code>: opens the bot and sends it")
    bot_username: str
    expires_at: datetime
