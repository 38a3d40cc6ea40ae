"""Chat messages as clients read them."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, field_validator

from agenthub.fields import JsonObject, NoNul, Visible
from agenthub.files.service import download_path

CHAT_ID_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9_.:@-]{0,127}$"
MESSAGE_ID_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9_.:@-]{0,63}$"
MAX_CONTENT_LENGTH = 32_000
"""Characters a message's content may have."""
Content = Annotated[str, Field(max_length=MAX_CONTENT_LENGTH), Visible()]
"""A message's text: blank, empty or invisible-only content is refused (``must not be
blank``), in the same words as a blank agent name."""


MAX_ATTACHMENTS = 10
"""Files a user may send with one message."""
FileId = Annotated[str, Field(pattern=r"^fil_[A-Za-z0-9]{1,60}$", description="A file's id (`POST /api/v1/files`)")]


class AttachmentRead(BaseModel):
    file_id: str
    download_path: str = Field(description="Downloads the file with the reader's credentials")


def attachments_read(file_ids: list[str] | None) -> list[AttachmentRead] | None:
    """File ids as clients read them, the same way as a bot's attachments (``channels.events``)."""
    if not file_ids:
        return None
    return [AttachmentRead(file_id=str(file_id), download_path=download_path(str(file_id))) for file_id in file_ids]


class ButtonRead(BaseModel):
    model_config = ConfigDict(extra="allow")

    text: str
    value: str = Field(description="What pressing it sends: the message's `content` and `button`")


class WidgetRead(BaseModel):
    """A bot message's buttons, as the live ``message`` event has them."""

    model_config = ConfigDict(extra="allow")

    buttons: list[ButtonRead] = Field(default_factory=list)


class ToolCallRead(BaseModel):
    name: str
    arguments: Any = Field(description="What the model passed (an object, or the text it sent when not JSON)")
    result: str = Field(description="What the model was told: the result, or `error: ...`")


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
    tool_calls: list[ToolCallRead] | None = Field(
        default=None, exclude_if=lambda value: value is None,
        description="On an answer whose agent called tools: each call, in order",
    )
    citations: list[dict[str, Any]] | None = Field(
        default=None, exclude_if=lambda value: value is None,
        description="On an answer citing documents (`rag` agents): `file_name`, `document_id`, `knowledge_base_id`",
    )
    attachments: list[AttachmentRead] | None = Field(
        default=None, exclude_if=lambda value: value is None,
        description="On a message sent with files (a user's, or a bot's): each file's id and download path",
    )
    widget: WidgetRead | None = Field(
        default=None, exclude_if=lambda value: value is None,
        description="On a bot's message with buttons, as the live `message` event has them: "
        "`{\"buttons\": [{\"text\", \"value\"}]}`",
    )

    stopped: bool = Field(
        default=False, exclude_if=lambda value: not value,
        description="`true` on an answer stopped on request (`POST .../messages/{message_id}/stop`), as the live "
        "`message` event has it: its text is what had been written; absent otherwise",
    )

    @field_validator("attachments", mode="before")
    @classmethod
    def _attachments(cls, value: Any) -> Any:
        if isinstance(value, list) and all(isinstance(item, str) for item in value):
            return attachments_read(value)
        return value or None

    @field_validator("widget", mode="before")
    @classmethod
    def _widget(cls, value: Any) -> Any:
        return value or None


class ChatMessageList(BaseModel):
    chat_id: str
    items: list[ChatMessageRead]


class ChatSummaryRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    chat_id: str
    title: str = Field(description="The start of the chat's first message (up to 120 characters); empty when none")
    turns: int = Field(description="Messages users sent in it")
    created_at: datetime
    last_message_at: datetime


class ChatSummaryList(BaseModel):
    items: list[ChatSummaryRead] = Field(description="The most recently active first")
    total: int = Field(description="The agent's chats in all")


class ChatRequest(BaseModel):
    """A message sent over HTTP (SSE) or WebSocket."""

    model_config = ConfigDict(extra="forbid")

    content: Content
    chat_id: str | None = Field(default=None, pattern=CHAT_ID_PATTERN)
    user_data: JsonObject = Field(
        default_factory=dict, description="Data passed on to the agent with the message; it never says who sent it"
    )
    channel: str = Field(
        default="web", min_length=1, max_length=32, pattern=r"^[a-z][a-z0-9_]*$",
        description="Accepted for the seed protocol and ignored: a message over SSE or the WebSocket is on `web`",
    )
    attachments: list[FileId] = Field(
        default_factory=list, max_length=MAX_ATTACHMENTS,
        description="Files sent with the message: ids of the organisation's files (`POST /api/v1/files`), "
        "at most 10; the agent sees them as `message.attachments`",
    )
    button: Annotated[str, Field(max_length=200), NoNul()] | None = Field(
        default=None,
        description="The value of the button pressed (a scenario bot's `widget`); send it as `content` too: "
        "the bot sees it as `message.button` and `message.text`",
    )
    platform_user_id: Annotated[str, Field(max_length=128), NoNul()] | None = Field(
        default=None,
        description="Accepted for the seed protocol and ignored: the sender is the caller (a user's id, an API "
        "key's id, or `anonymous:<address>`)",
    )


class StopRead(BaseModel):
    message_id: str
    stopping: bool = Field(
        description="True: the answer being written stops and its text so far is delivered as the answer "
        "(`message` with `\"stopped\": true`); false: the message was answered already"
    )
