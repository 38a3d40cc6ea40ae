"""Accounts as clients send and read them."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, EmailStr, Field, field_validator

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


class DeleteAccountRequest(_Strict):
    password: Annotated[Secret, Field(min_length=1, max_length=1024)]
    """The account's password again, to confirm."""


class OrganizationRead(BaseModel):
    id: str
    name: str
    role: Role
    """The caller's role in it."""


class OrganizationUpdate(_Strict):
    name: Name


class MemberCreate(_Strict):
    email: EmailStr
    password: Password
    role: Role = "member"
    username: Name | None = None
    """Unset: the part of the e-mail before ``@``."""


class MemberUpdate(_Strict):
    role: Role | None = None
    username: Name | None = None

    @field_validator("role", "username")
    @classmethod
    def _not_null(cls, value: str | None) -> str:
        if value is None:
            raise ValueError("can't be null: leave it out to keep it")
        return value


class MemberRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: str
    email: str
    username: str
    role: Role
    created_at: datetime


class MemberList(BaseModel):
    items: list[MemberRead]


MAX_INVITATION_SECONDS = 365 * 24 * 3600
DEFAULT_INVITATION_SECONDS = 7 * 24 * 3600


class InvitationCreate(_Strict):
    email: EmailStr | None = None
    """Only this e-mail may use it; unset: whoever has the token."""
    role: Role = "member"
    max_uses: Annotated[int, Field(ge=1, le=10_000)] = 1
    """1: single use; more makes it a join link."""
    expires_in: Annotated[int, Field(ge=1, le=MAX_INVITATION_SECONDS)] = DEFAULT_INVITATION_SECONDS
    """Seconds it stays valid (a week unless given; a year at most)."""


class InvitationCreated(BaseModel):
    id: str
    token: str
    """Shown only here: give it to the invitee, who registers with ``{"invitation": token}``."""
    role: Role
    expires_at: datetime
    email: str | None
    max_uses: int


class InvitationRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: str
    email: str | None
    role: Role
    max_uses: int
    uses: int
    expires_at: datetime | None
    created_by: str | None
    created_at: datetime


class InvitationList(BaseModel):
    items: list[InvitationRead]
