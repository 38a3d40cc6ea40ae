"""Accounts as clients send and read them."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, EmailStr, Field

from agenthub.accounts.passwords import MIN_LENGTH
from agenthub.fields import Name, Secret, Text

Role = Literal["owner", "admin", "member"]
Password = Annotated[Secret, Field(min_length=MIN_LENGTH, max_length=1024)]
"""A SecretStr: never echoed back, even in a validation error."""


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class RegisterRequest(_Strict):
    email: EmailStr
    password: Password
    org_name: Name | None = None
    invitation: Annotated[Text, Field(min_length=1, max_length=200)] | None = None


class LoginRequest(_Strict):
    email: Annotated[Text, Field(min_length=1, max_length=320)]
    password: Annotated[Secret, Field(min_length=1, max_length=1024)]


class RefreshRequest(_Strict):
    refresh_token: Annotated[Text, Field(min_length=1, max_length=200)]


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
