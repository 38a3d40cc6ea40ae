"""Credentials as clients send and read them: the value goes in, never out."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, SecretStr

from agenthub.fields import Name, Visible

MAX_VALUE_LENGTH = 65_536
CredentialType = Annotated[str, Field(max_length=64), Visible()]
"""Free text saying what the value is: ``telegram_bot_token``, ``api_key``, ``http_header``..."""


class CredentialCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: Name
    type: CredentialType
    value: Annotated[SecretStr, Field(min_length=1, max_length=MAX_VALUE_LENGTH)] = Field(
        description="The secret; stored encrypted, never shown again (a SecretStr: not even in a validation error)"
    )


class CredentialRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: str
    name: str
    type: str
    created_at: datetime


class CredentialList(BaseModel):
    items: list[CredentialRead]
    total: int
