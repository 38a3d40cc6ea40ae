"""Chats and their messages. A message id is unique, so a redelivered message is stored
once; an assistant message's ``reply_to`` is unique, so a message is answered once.

Order within a chat is ``position``: the n-th user message of a chat is at 2n, its answer
at 2n+1, whenever each is stored (answers reach the table later, through the history
queue, possibly after the user's next message)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, Boolean, ForeignKey, Index, Integer, String, Text, false
from sqlalchemy.orm import Mapped, mapped_column

from agenthub.db.base import Base, UTCDateTime, utcnow

MAX_POSITION = 2**31 - 1
"""The largest position a column of the type ``Integer`` holds on every backend."""


class Chat(Base):
    __tablename__ = "chats"

    id: Mapped[str] = mapped_column(String(128), primary_key=True)
    agent_id: Mapped[str] = mapped_column(
        String(64), ForeignKey("agents.id", ondelete="CASCADE"), primary_key=True
    )
    org_id: Mapped[str] = mapped_column(String(64), index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    last_message_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    turns: Mapped[int] = mapped_column(Integer, default=0, server_default="0")


class ChatMessage(Base):
    __tablename__ = "chat_messages"
    __table_args__ = (
        Index("ix_chat_messages_agent_chat_position", "agent_id", "chat_id", "position"),
        Index("ix_chat_messages_agent_user_key", "agent_id", "user_key"),
    )

    seq: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    message_id: Mapped[str] = mapped_column(String(64), unique=True)
    agent_id: Mapped[str] = mapped_column(
        String(64), ForeignKey("agents.id", ondelete="CASCADE")
    )
    chat_id: Mapped[str] = mapped_column(String(128))
    position: Mapped[int] = mapped_column(Integer)
    role: Mapped[str] = mapped_column(String(16))
    content: Mapped[str] = mapped_column(Text)
    reply_to: Mapped[str | None] = mapped_column(String(64), unique=True, nullable=True)
    channel: Mapped[str] = mapped_column(String(32), default="web")
    platform_user_id: Mapped[str | None] = mapped_column(String(128), nullable=True)
    user_key: Mapped[str | None] = mapped_column(String(192), nullable=True)
    """Whose long-term memory a user message belongs to (the account, or ``<channel>:<platform
    user>``), as the turn's tools see it; answers go by their ``reply_to``."""
    attachments: Mapped[list | None] = mapped_column(JSON, nullable=True)
    """The file ids (``fil_...``) a user or a bot sent with the message, in order; None without any."""
    widget: Mapped[dict | None] = mapped_column(JSON, nullable=True)
    """The buttons a bot's message came with (``{"buttons": [{"text", "value"}]}``); None without any."""
    stopped: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    """An answer stopped on request while it was being written: its text is what had been written."""
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    recovered_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    """When a start took this unanswered user message up again: it is taken up once at most."""
    tool_calls: Mapped[list | None] = mapped_column(JSON, nullable=True)
    """An answer's tool calls: ``[{"name", "arguments", "result"}]``, in the order they ran."""
    citations: Mapped[list | None] = mapped_column(JSON, nullable=True)
    """The documents an answer cites: ``[{"file_name", "document_id", "knowledge_base_id", ...}]``."""
