"""Authorisations as clients send and read them."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field

from agenthub.fields import Visible


class AuthorizationCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    channel: str = Field(
        min_length=1, max_length=32, pattern=r"^[a-z][a-z0-9_]*$",
        description="`web` for a user (or an API key) of the platform, `telegram` for a Telegram user, ...",
    )
    platform_user_id: Annotated[str, Field(min_length=1, max_length=128), Visible()] = Field(
        description="On `web`: a user's id (`GET /api/v1/auth/me`) or an API key's id; on `telegram`: the "
        "Telegram user id"
    )


class AuthorizationRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: str
    agent_id: str
    channel: str
    platform_user_id: str
    created_at: datetime


class AuthorizationList(BaseModel):
    items: list[AuthorizationRead]
