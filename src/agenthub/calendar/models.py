"""Calendar events: a prompt an agent runs at ``start_at`` (once) or on a ``cron`` schedule in
the event's time zone, its answer sent to the user's notification channels. The scheduler
takes a due event under a lease (``lease_until``), so one firing happens once."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, Boolean, ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from agenthub.db.base import Base, UTCDateTime, utcnow

MISSED_POLICIES = ("run_once", "skip")


class CalendarEvent(Base):
    __tablename__ = "calendar_events"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    org_id: Mapped[str] = mapped_column(String(64), ForeignKey("organizations.id", ondelete="CASCADE"), index=True)
    user_id: Mapped[str] = mapped_column(String(64), ForeignKey("users.id", ondelete="CASCADE"), index=True)
    agent_id: Mapped[str] = mapped_column(String(64), ForeignKey("agents.id", ondelete="CASCADE"), index=True)
    """The agent's internal id (``agents.id``); the API shows its handle."""
    title: Mapped[str] = mapped_column(String(200))
    prompt: Mapped[str] = mapped_column(Text)
    start_at: Mapped[datetime] = mapped_column(UTCDateTime())
    timezone: Mapped[str] = mapped_column(String(64), default="UTC")
    cron: Mapped[str | None] = mapped_column(String(120), nullable=True)
    channels: Mapped[list[str] | None] = mapped_column(JSON, nullable=True)
    """Channel types (``email``, ``telegram``) or ids of the user's channels; None: the user's
    channels in priority order, with fallback."""
    missed: Mapped[str] = mapped_column(String(16), default="run_once")
    """After downtime: ``run_once`` (one firing for all that were missed) or ``skip``."""
    enabled: Mapped[bool] = mapped_column(Boolean, default=True)
    next_run_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True, index=True)
    last_run_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    lease_until: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    lease_owner: Mapped[str | None] = mapped_column(String(64), nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, onupdate=utcnow)
