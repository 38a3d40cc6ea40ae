"""Knowledge bases, their documents and the documents' chunks.

A document's bytes are kept with it until it is processed (any replica may process it:
the processor takes a pending document under a lease, ``lease_until``). Chunks have an
integer id: the keyword index (SQLite FTS5, PostgreSQL ``tsvector``; made by the migration)
and the vector index key them by it.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, ForeignKey, Integer, LargeBinary, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from agenthub.db.base import Base, UTCDateTime, utcnow

DOCUMENT_STATUSES = ("pending", "processing", "ready", "failed")


class KnowledgeBase(Base):
    __tablename__ = "knowledge_bases"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    org_id: Mapped[str] = mapped_column(String(64), ForeignKey("organizations.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(200))
    embedding_model: Mapped[str] = mapped_column(String(200))
    embedding_base_url: Mapped[str | None] = mapped_column(String(2000), nullable=True)
    base_url_trusted: Mapped[bool] = mapped_column(Boolean, default=False)
    """Set by an owner or admin: a loopback or private ``embedding_base_url`` is allowed."""
    embedding_dimensions: Mapped[int | None] = mapped_column(Integer, nullable=True)
    """As asked, or learnt from the first embedding."""
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class KnowledgeDocument(Base):
    __tablename__ = "knowledge_documents"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    knowledge_base_id: Mapped[str] = mapped_column(
        String(64), ForeignKey("knowledge_bases.id", ondelete="CASCADE"), index=True
    )
    org_id: Mapped[str] = mapped_column(String(64), index=True)
    file_name: Mapped[str] = mapped_column(String(255))
    file_type: Mapped[str] = mapped_column(String(16))
    """``txt``, ``md``, ``html`` or ``pdf``."""
    size_bytes: Mapped[int] = mapped_column(Integer)
    content: Mapped[bytes | None] = mapped_column(LargeBinary, nullable=True)
    """The uploaded bytes; dropped once the document is ready."""
    status: Mapped[str] = mapped_column(String(16), default="pending", index=True)
    chunks_done: Mapped[int] = mapped_column(Integer, default=0)
    chunks_total: Mapped[int | None] = mapped_column(Integer, nullable=True)
    error: Mapped[str | None] = mapped_column(Text, nullable=True)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    """Processings that failed for a reason that may pass (the embedding endpoint away)."""
    lease_until: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    lease_owner: Mapped[str | None] = mapped_column(String(64), nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, onupdate=utcnow)


class KnowledgeChunk(Base):
    __tablename__ = "knowledge_chunks"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    knowledge_base_id: Mapped[str] = mapped_column(
        String(64), ForeignKey("knowledge_bases.id", ondelete="CASCADE"), index=True
    )
    document_id: Mapped[str] = mapped_column(
        String(64), ForeignKey("knowledge_documents.id", ondelete="CASCADE"), index=True
    )
    position: Mapped[int] = mapped_column(Integer)
    text: Mapped[str] = mapped_column(Text)


KEYWORD_INDEX_TABLE = "knowledge_chunks_fts"
"""SQLite's FTS5 table (and its shadow tables ``_data``, ``_idx``...), made by the migration."""
KEYWORD_INDEX_NAMES = frozenset({"tsv", "ix_knowledge_chunks_tsv"})
"""PostgreSQL's generated ``tsvector`` column and its GIN index, made by the migration."""


def is_keyword_index(name: str | None, type_: str) -> bool:
    """Whether a database object is the keyword index the migration made by hand (which the
    mapped tables leave out, so schema comparisons must too)."""
    if not name:
        return False
    if type_ == "table":
        return name.startswith(KEYWORD_INDEX_TABLE)
    return name in KEYWORD_INDEX_NAMES
