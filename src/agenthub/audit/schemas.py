"""Audit records as owners and admins read them."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field


class AuditRecordRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int = Field(description="Grows with every record: pass the last one seen as `before` for older ones")
    actor_user_id: str | None = Field(description="The user who made the change (null for an API key)")
    actor_api_key_id: str | None = Field(description="The API key that made the change (null for a user)")
    action: str = Field(description="`agent.create`, `agent.update`, `member.delete`, ...")
    resource_type: str
    resource_id: str | None
    address: str | None = Field(description="The client's address")
    before: dict[str, Any] | None = Field(description="The resource before the change, secrets shown as `***`")
    after: dict[str, Any] | None = Field(description="The resource after the change, secrets shown as `***`")
    created_at: datetime


class AuditPage(BaseModel):
    items: list[AuditRecordRead]
    next_before: int | None = Field(
        description="Pass as `before` for the next page (older records); null when there are no more"
    )
