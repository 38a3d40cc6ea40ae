"""Group chats and their messages as clients send and read them."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field

from agenthub.agents.schemas import AGENT_ID_PATTERN
from agenthub.chats.schemas import Content
from agenthub.fields import Name, NoNul

MAX_MEMBERS = 200
UserId = Annotated[str, Field(min_length=1, max_length=64), NoNul()]
AgentHandle = Annotated[str, Field(pattern=AGENT_ID_PATTERN, description="The agent's id in your organisation")]

UserMentionStatus = Literal["notified", "no_channel", "self", "unknown"]
RoleMentionStatus = Literal["asked", "answered", "failed", "refused", "unknown", "too_many"]


class GroupChatCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: Name
    member_ids: list[UserId] = Field(
        default_factory=list, max_length=MAX_MEMBERS,
        description="Users of your organisation (their ids); you are a member whether named or not",
    )
    agent_id: AgentHandle | None = Field(
        default=None,
        description="The group's agent: it answers a `@@role` that names no agent of your organisation, in that "
        "role. One you may chat with",
    )


class GroupChatUpdate(BaseModel):
    """What to change of a group chat: each field optional; `agent_id: null` removes the group's agent."""

    model_config = ConfigDict(extra="forbid")

    name: Name | None = None
    agent_id: AgentHandle | None = Field(
        default=None, description="The group's agent (one you may chat with); `null` removes it"
    )


class MembersAdd(BaseModel):
    model_config = ConfigDict(extra="forbid")

    user_ids: list[UserId] = Field(
        min_length=1, max_length=MAX_MEMBERS, description="Users of your organisation to add (their ids)"
    )


class MemberRead(BaseModel):
    id: str
    username: str


class GroupChatRead(BaseModel):
    id: str
    name: str
    agent_id: str | None = Field(description="The group's agent (its id in your organisation), if any")
    members: list[MemberRead]
    created_by: str | None
    created_at: datetime


class GroupChatList(BaseModel):
    items: list[GroupChatRead]
    total: int


class MessageCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    content: Content = Field(
        description="The text; `@username` notifies that member, `@@role` asks that AI role (not inside code, "
        "not in e-mail addresses)"
    )


class MentionRead(BaseModel):
    """A mention as it was resolved. A user mention: `notified` (their notification channels
    were sent it), `no_channel` (a member without any), `self`, or `unknown` (no member of
    that username: nobody is notified). A role mention: `asked` (its answer is on the way),
    `answered` (`message_id` is the answer), `failed` (the agent failed or timed out:
    `error`), `refused` (you may not ask it, or your budget is spent: `error`), `unknown` (no
    agent of that name and the group has no agent), `too_many` (more roles than one message
    may ask)."""

    type: Literal["user", "role"]
    name: str
    status: UserMentionStatus | RoleMentionStatus
    user_id: str | None = None
    agent_id: str | None = Field(default=None, description="A role: the agent that answers it")
    message_id: str | None = Field(default=None, description="A role: its answer, once it came")
    error: str | None = None


class MessageRead(BaseModel):
    id: str
    group_chat_id: str
    author_type: Literal["user", "role"]
    author: str = Field(description="A user's id, or a role's name")
    content: str
    mentions: list[MentionRead]
    reply_to: str | None = Field(description="A role's answer: the message that asked it")
    ai_validated: bool | None = Field(
        description="null for people's messages; a role's answer: false until a member approves or edits it"
    )
    validated_by: str | None
    validated_at: datetime | None
    created_at: datetime


class MessageList(BaseModel):
    group_chat_id: str
    items: list[MessageRead] = Field(description="Oldest first")


class _Review(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Approve(_Review):
    action: Literal["approve"] = Field(description="Keep the answer as it is")


class Edit(_Review):
    action: Literal["edit"] = Field(description="Keep `content` instead of the answer")
    content: Content = Field(description="The answer as it should read")


class Reject(_Review):
    action: Literal["reject"] = Field(description="Remove the answer")


ValidateRequest = Annotated[Approve | Edit | Reject, Field(discriminator="action")]
"""A member's review of an AI answer: ``{"action": "approve"}``, ``{"action": "edit",
"content"}`` or ``{"action": "reject"}``."""


class Validated(BaseModel):
    action: Literal["approve", "edit", "reject"]
    message: MessageRead | None = Field(description="The answer as it now reads; null once rejected (removed)")
