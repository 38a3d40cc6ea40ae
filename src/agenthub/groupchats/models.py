"""Group chats (seed 003): people of one organisation talking together, an AI role answering
when one is mentioned (``@@role``). A role's answer waits for a person's review
(``ai_validated`` false until approved or edited; a rejected one is deleted)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Boolean, ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from agenthub.db.base import Base, UTCDateTime, utcnow

AUTHOR_TYPES = ("user", "role")


class GroupChat(Base):
    __tablename__ = "group_chats"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    org_id: Mapped[str] = mapped_column(String(64), ForeignKey("organizations.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(200))
    agent_id: Mapped[str | None] = mapped_column(
        String(64), ForeignKey("agents.id", ondelete="SET NULL"), nullable=True, index=True
    )
    """The group's own agent (its internal id): it answers a ``@@role`` that names no agent of
    the organisation, in that role."""
    created_by: Mapped[str | None] = mapped_column(
        String(64), ForeignKey("users.id", ondelete="SET NULL"), nullable=True
    )
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class GroupChatMember(Base):
    __tablename__ = "group_chat_members"

    group_chat_id: Mapped[str] = mapped_column(
        String(64), ForeignKey("group_chats.id", ondelete="CASCADE"), primary_key=True
    )
    user_id: Mapped[str] = mapped_column(
        String(64), ForeignKey("users.id", ondelete="CASCADE"), primary_key=True, index=True
    )
    org_id: Mapped[str] = mapped_column(String(64), ForeignKey("organizations.id", ondelete="CASCADE"))
    joined_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class GroupChatMessage(Base):
    """A person's message (``author_type`` ``user``, ``author`` their user id,
    ``ai_validated`` null) or a role's answer (``role``, the role's name, false until a
    person approves or edits it: then true)."""

    __tablename__ = "group_chat_messages"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    group_chat_id: Mapped[str] = mapped_column(String(64), ForeignKey("group_chats.id", ondelete="CASCADE"))
    org_id: Mapped[str] = mapped_column(String(64), ForeignKey("organizations.id", ondelete="CASCADE"), index=True)
    author_type: Mapped[str] = mapped_column(String(16))
    author: Mapped[str] = mapped_column(String(200))
    content: Mapped[str] = mapped_column(Text)
    mentions: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    """The mentions of a person's message as they were resolved (see ``schemas.MentionRead``)."""
    reply_to: Mapped[str | None] = mapped_column(String(64), nullable=True)
    """A role's answer: the message that asked it."""
    agent_id: Mapped[str | None] = mapped_column(
        String(64), ForeignKey("agents.id", ondelete="SET NULL"), nullable=True
    )
    """A role's answer: the agent that gave it (its internal id)."""
    ai_validated: Mapped[bool | None] = mapped_column(Boolean, nullable=True)
    validated_by: Mapped[str | None] = mapped_column(
        String(64), ForeignKey("users.id", ondelete="SET NULL"), nullable=True
    )
    validated_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    __table_args__ = (Index("ix_group_chat_messages_chat_created", "group_chat_id", "created_at", "id"),)
