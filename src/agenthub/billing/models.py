"""Token usage logs: one row per answered message. They are billing records of the
organisation: no foreign key to the agent, so they outlive its deletion and purge."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import BigInteger, Date, Integer, Numeric, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from agenthub.db.base import Base, UTCDateTime, utcnow


class TokenUsageLog(Base):
    __tablename__ = "token_usage_logs"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    message_id: Mapped[str] = mapped_column(String(64), unique=True)
    org_id: Mapped[str] = mapped_column(String(64), index=True)
    agent_id: Mapped[str] = mapped_column(String(64), index=True)
    chat_id: Mapped[str] = mapped_column(String(128))
    user_id: Mapped[str | None] = mapped_column(String(160), nullable=True, index=True)
    """Whose turn it was: a platform user's id, or an end user's ``{channel}:{id}``."""
    api_key_id: Mapped[str | None] = mapped_column(String(64), nullable=True, index=True)
    provider: Mapped[str] = mapped_column(String(32))
    model: Mapped[str] = mapped_column(String(128))
    input_tokens: Mapped[int] = mapped_column(Integer)
    output_tokens: Mapped[int] = mapped_column(Integer)
    cost: Mapped[Decimal | None] = mapped_column(Numeric(18, 8), nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class Budget(Base):
    """A spending limit in USD for a user, an organisation or an API key, over a period
    (``budget_duration``: ``1d``, ``1w``, ``1mo``...; None: for ever) that restarts at
    ``period_started_at`` + the duration."""

    __tablename__ = "budgets"
    __table_args__ = (UniqueConstraint("scope", "subject_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    org_id: Mapped[str] = mapped_column(String(64), index=True)
    scope: Mapped[str] = mapped_column(String(16))
    """``user``, ``org`` or ``api_key``."""
    subject_id: Mapped[str] = mapped_column(String(160))
    max_budget: Mapped[Decimal] = mapped_column(Numeric(18, 8))
    budget_duration: Mapped[str | None] = mapped_column(String(16), nullable=True)
    period_started_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, onupdate=utcnow)


class DailyUsage(Base):
    """Usage added up per organisation, user, agent, model and day (UTC), as each turn's
    usage is stored. ``user_id`` is ``""`` for turns of nobody in particular."""

    __tablename__ = "daily_usage"
    __table_args__ = (UniqueConstraint("org_id", "user_id", "agent_id", "model", "day"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    org_id: Mapped[str] = mapped_column(String(64), index=True)
    user_id: Mapped[str] = mapped_column(String(160), default="")
    agent_id: Mapped[str] = mapped_column(String(64))
    model: Mapped[str] = mapped_column(String(128))
    day: Mapped[date] = mapped_column(Date, index=True)
    turns: Mapped[int] = mapped_column(Integer, default=0)
    input_tokens: Mapped[int] = mapped_column(BigInteger, default=0)
    output_tokens: Mapped[int] = mapped_column(BigInteger, default=0)
    cost: Mapped[Decimal] = mapped_column(Numeric(18, 8), default=Decimal(0))
