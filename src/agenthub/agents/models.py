"""Agent configurations. A deleted agent is kept, hidden, for DELETED_RETENTION_DAYS
(``deleted_at`` set): its id can't be taken meanwhile, and what was recorded about it stays
until the purge (:mod:`agenthub.workers.purge`)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from agenthub.caller import DEFAULT_ORG
from agenthub.db.base import Base, TimestampMixin, UTCDateTime

__all__ = ["DEFAULT_ORG", "Agent"]


class Agent(TimestampMixin, Base):
    __tablename__ = "agents"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    org_id: Mapped[str] = mapped_column(String(64), index=True, default=DEFAULT_ORG)
    name: Mapped[str] = mapped_column(String(200))
    kind: Mapped[str] = mapped_column(String(32))
    settings: Mapped[dict[str, Any]] = mapped_column(JSON)
    config_version: Mapped[int] = mapped_column(Integer, default=1)
    owner_user_id: Mapped[str | None] = mapped_column(String(64), nullable=True, index=True)
    """The member whose personal agent this is (made from the organisation's template)."""
    deleted_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True, index=True)
