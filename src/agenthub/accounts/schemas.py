"""Accounts as clients send and read them."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, EmailStr, Field, SecretStr

from agenthub.accounts.passwords import MIN_LENGTH
from agenthub.fields import Name

Role = Literal["owner", "admin", "member"]
Password = Annotated[SecretStr, Field(min_length=MIN_LENGTH, max_length=1024)]
"""A SecretStr: never echoed back, even in a validation error."""


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class RegisterRequest(_Strict):
    email: EmailStr
    password: Password
    org_name: Name | None = None
    invitation: Annotated[str, Field(min_length=1, max_length=200)] | None = None


class LoginRequest(_Strict):
    email: Annotated[str, Field(min_length=1, max_length=320)]
    password: Annotated[SecretStr, Field(min_length=1, max_length=1024)]


class RefreshRequest(_Strict):
    refresh_token: Annotated[str, Field(min_length=1, max_length=200)]


class TokenPair(BaseModel):
    access_token: str
    refresh_token: str
    token_type: Literal["bearer"] = "bearer"
    expires_in: int
    """Seconds the access token is valid."""


class Me(BaseModel):
    id: str
    email: str
    username: str
    org_id: str
    role: Role


KeyAgentId = Annotated[str, Field(min_length=1, max_length=64, pattern=r"^[a-z0-9][a-z0-9_-]{1,63}$")]


class ApiKeyCreate(_Strict):
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
