"""Notification tables: each user's channels (e-mail, Telegram) in priority order, and one
delivery row per attempt target, kept as the delivery log."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, ForeignKey, Integer, String, Text, false
from sqlalchemy.orm import Mapped, mapped_column

from agenthub.db.base import Base, UTCDateTime, utcnow

CHANNEL_TYPES = ("email", "telegram")
DELIVERY_STATUSES = ("pending", "sent", "failed")


class NotificationChannel(Base):
    """Where a user is notified: an e-mail ``address`` or a Telegram ``chat_id``; the lowest
    ``priority`` is tried first."""

    __tablename__ = "notification_channels"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    org_id: Mapped[str] = mapped_column(String(64), ForeignKey("organizations.id", ondelete="CASCADE"), index=True)
    user_id: Mapped[str] = mapped_column(String(64), ForeignKey("users.id", ondelete="CASCADE"), index=True)
    type: Mapped[str] = mapped_column(String(16))
    address: Mapped[str | None] = mapped_column(String(320), nullable=True)
    chat_id: Mapped[str | None] = mapped_column(String(64), nullable=True)
    priority: Mapped[int] = mapped_column(Integer, default=100)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class NotificationDelivery(Base):
    """One notification to one channel: ``pending`` until sent or failed for good, with its
    attempts, the last error, and when the next attempt is due. The rows of one notification
    share ``notification_id`` (its fallbacks, or the several channels it was sent to)."""

    __tablename__ = "notification_deliveries"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    notification_id: Mapped[str] = mapped_column(String(64), index=True)
    org_id: Mapped[str] = mapped_column(String(64), ForeignKey("organizations.id", ondelete="CASCADE"), index=True)
    user_id: Mapped[str] = mapped_column(String(64), ForeignKey("users.id", ondelete="CASCADE"), index=True)
    channel: Mapped[str] = mapped_column(String(16))
    """The channel's type (``email``, ``telegram``)."""
    channel_id: Mapped[str | None] = mapped_column(
        String(64), ForeignKey("notification_channels.id", ondelete="SET NULL"), nullable=True, index=True
    )
    subject: Mapped[str] = mapped_column(String(300), default="")
    body: Mapped[str] = mapped_column(Text)
    source: Mapped[str | None] = mapped_column(String(200), nullable=True)
    """What caused it, e.g. ``calendar:{event_id}`` or ``mention:{message_id}``."""
    fallback: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    """A default notification's row (no channel named): when it fails for good, the user's
    next channel by priority gets a row of the same notification. Named channels don't."""
    status: Mapped[str] = mapped_column(String(16), default="pending", index=True)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    error: Mapped[str | None] = mapped_column(Text, nullable=True)
    next_attempt_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True, index=True)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, onupdate=utcnow)
