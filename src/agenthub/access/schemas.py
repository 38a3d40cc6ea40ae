"""API keys and authorisations as clients send and read them."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field

from agenthub.agents.schemas import AGENT_ID_PATTERN
from agenthub.fields import Name, Visible


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


KeyAgentId = Annotated[str, Field(pattern=AGENT_ID_PATTERN)]


class ApiKeyCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: Name
    agent_ids: Annotated[list[KeyAgentId], Field(min_length=1, max_length=100)] | None = Field(
        default=None,
        description="The only agents of the organisation the key may reach (every route of another agent is "
        "404 for it); left out: every agent",
    )


class ApiKeyRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: str
    name: str
    prefix: str = Field(description="The key's first characters, to tell keys apart")
    agent_ids: list[str] | None
    created_at: datetime
    last_used_at: datetime | None = Field(description="Updated at most once a minute")


class ApiKeyCreated(BaseModel):
    id: str
    name: str
    key: str = Field(description="The key itself, shown this once: send it as `Authorization: Bearer <key>`")
    prefix: str
    agent_ids: list[str] | None
    created_at: datetime


class ApiKeyList(BaseModel):
    items: list[ApiKeyRead]
