"""Chat messages as clients read them."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field, field_validator

from agenthub.agents.schemas import JsonObject, Text

CHAT_ID_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9_.:@-]{0,127}$"


class ChatMessageRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    position: int = Field(
        description="Order in the chat (user messages even, each answer right after its question); "
        "pass the last one as after_position for the next page"
    )
    message_id: str
    chat_id: str
    role: str
    content: str
    reply_to: str | None
    channel: str
    created_at: datetime


class ChatMessageList(BaseModel):
    chat_id: str
    items: list[ChatMessageRead]


class ChatRequest(BaseModel):
    """A message sent over HTTP (SSE) or WebSocket."""

    model_config = ConfigDict(extra="forbid")

    content: Text = Field(min_length=1, max_length=32_000)
    chat_id: str | None = Field(default=None, pattern=CHAT_ID_PATTERN)
    user_data: JsonObject = Field(default_factory=dict)
    channel: str = Field(default="web", min_length=1, max_length=32, pattern=r"^[a-z][a-z0-9_]*$")
    platform_user_id: Text | None = Field(default=None, max_length=128)

    @field_validator("content")
    @classmethod
    def _not_blank(cls, content: str) -> str:
        if not content.strip():
            raise ValueError("must not be blank")
        return content
