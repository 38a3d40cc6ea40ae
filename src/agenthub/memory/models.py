"""Long-term memory of an agent for one user (``user_key``: the account, or on a channel
without accounts ``<channel>:<platform user>``), Letta-style:

- core blocks (``persona``, ``human``, custom ones), always in the agent's context;
- archival passages, searched by meaning (an embedding per passage, with its model);
- summaries of the older turns of a chat, in the context ahead of the recent ones (the
  turns themselves stay in ``chat_messages``, searchable).
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from agenthub.db.base import Base, UTCDateTime, utcnow

USER_KEY_LENGTH = 192


class CoreBlock(Base):
    __tablename__ = "memory_blocks"
    __table_args__ = (UniqueConstraint("agent_id", "user_key", "label", name="uq_memory_blocks_agent_user_label"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    agent_id: Mapped[str] = mapped_column(String(64), ForeignKey("agents.id", ondelete="CASCADE"))
    user_key: Mapped[str] = mapped_column(String(USER_KEY_LENGTH))
    label: Mapped[str] = mapped_column(String(64))
    value: Mapped[str] = mapped_column(Text, default="")
    limit: Mapped[int] = mapped_column(Integer, default=2000)
    position: Mapped[int] = mapped_column(Integer, default=0)
    """Where the block stands among the user's blocks (the order of the agent's ``memory_blocks``)."""
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, onupdate=utcnow)


class ArchivalPassage(Base):
    __tablename__ = "archival_passages"
    __table_args__ = (Index("ix_archival_passages_agent_user", "agent_id", "user_key", "model"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    agent_id: Mapped[str] = mapped_column(String(64), ForeignKey("agents.id", ondelete="CASCADE"))
    user_key: Mapped[str] = mapped_column(String(USER_KEY_LENGTH))
    content: Mapped[str] = mapped_column(Text)
    normalized: Mapped[str] = mapped_column(String(64))
    """The SHA-256 of the passage's normalised text (lower case, words only): the same fact twice is one row."""
    model: Mapped[str] = mapped_column(String(128))
    """The embedding model of ``vector``: a search compares only vectors of the same model."""
    vector: Mapped[list[float]] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class ConversationSummary(Base):
    __tablename__ = "conversation_summaries"
    __table_args__ = (Index("ix_conversation_summaries_agent_chat", "agent_id", "chat_id", "up_to_position"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    agent_id: Mapped[str] = mapped_column(String(64), ForeignKey("agents.id", ondelete="CASCADE"))
    chat_id: Mapped[str] = mapped_column(String(128))
    up_to_position: Mapped[int] = mapped_column(Integer)
    """The summary covers the chat's messages up to this position (included)."""
    content: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
