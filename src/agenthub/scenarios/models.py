"""The tables of scenario bots. Every row belongs to an organisation (``org_id``) and, but
templates and files, to one bot.

The editable draft of a bot is its rows (steps, connection groups, connections, requests,
template instances); ``POST /api/v1/bots/{id}/publish`` freezes it into a
:class:`BotVersion` document, which is what sessions run. A bot's id is the internal id of
its agent (``kind: "scenario"``): the bot is reached, started and stopped as that agent.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Boolean, Float, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from agenthub.db.base import Base, TimestampMixin, UTCDateTime, utcnow

SEARCH_TYPES = ("message", "response", "code", "llm", "integration")
STEP_KEY_LENGTH = 160
"""A session's step: a step's key, or ``<instance>/<step>`` inside a template (two keys)."""


def _org() -> Mapped[str]:
    return mapped_column(String(64), ForeignKey("organizations.id", ondelete="CASCADE"), index=True)


def _bot() -> Mapped[str]:
    return mapped_column(String(64), ForeignKey("bots.id", ondelete="CASCADE"), index=True)


class Bot(TimestampMixin, Base):
    __tablename__ = "bots"

    id: Mapped[str] = mapped_column(String(64), ForeignKey("agents.id", ondelete="CASCADE"), primary_key=True)
    org_id: Mapped[str] = _org()
    name: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text, default="")
    first_step_id: Mapped[str | None] = mapped_column(String(64), nullable=True)
    variables: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    """The bot's variables (``bot.*``) and their values."""
    published_version: Mapped[int | None] = mapped_column(Integer, nullable=True)
    """The version sessions run; None before the first publish."""
    draft_revision: Mapped[int] = mapped_column(Integer, default=1)
    """Counts the changes of the draft (each edit adds one): live updates and "changed since publishing"."""
    published_revision: Mapped[int | None] = mapped_column(Integer, nullable=True)
    """The draft revision the published version was made from."""


class BotVersion(Base):
    """A published version: the whole bot as one document, as sessions run it."""

    __tablename__ = "bot_versions"
    __table_args__ = (UniqueConstraint("bot_id", "version"),)

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    org_id: Mapped[str] = _org()
    bot_id: Mapped[str] = _bot()
    version: Mapped[int] = mapped_column(Integer)
    document: Mapped[dict[str, Any]] = mapped_column(JSON)
    published_by: Mapped[str | None] = mapped_column(String(64), nullable=True)
    published_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class Step(TimestampMixin, Base):
    __tablename__ = "scenario_steps"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    org_id: Mapped[str] = _org()
    bot_id: Mapped[str] = _bot()
    key: Mapped[str | None] = mapped_column(String(64), nullable=True)
    """Its name in the bot's document (unique in the bot); the id when none was given."""
    name: Mapped[str] = mapped_column(String(200), default="")
    message: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    """``{"text", "params", "attachments", "widget"}``"""
    is_proxy: Mapped[bool] = mapped_column(Boolean, default=False)
    preset_id: Mapped[str | None] = mapped_column(String(64), nullable=True)
    """The preset that generated the step (``POST /api/v1/bots/{id}/presets``)."""
    emitter: Mapped[dict[str, Any] | None] = mapped_column(JSON, nullable=True)
    """A delayed move: ``{"delay_seconds", "next_step_id"}``."""
    template_instance: Mapped[dict[str, Any] | None] = mapped_column(JSON, nullable=True)
    """A template instance step: ``{"template_id", "inputs", "outputs"}`` (it is a proxy step)."""
    position: Mapped[dict[str, Any] | None] = mapped_column(JSON, nullable=True)
    """Where the visual constructor draws it: ``{"x", "y"}``."""


class ConnectionGroup(TimestampMixin, Base):
    """The connections of a step (or of the bot itself: ``step_id`` None, the bot-level
    handlers), evaluated together after the group's action."""

    __tablename__ = "scenario_connection_groups"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    org_id: Mapped[str] = _org()
    bot_id: Mapped[str] = _bot()
    step_id: Mapped[str | None] = mapped_column(
        String(64), ForeignKey("scenario_steps.id", ondelete="CASCADE"), nullable=True, index=True
    )
    order: Mapped[int] = mapped_column(Integer, default=0)
    search_type: Mapped[str] = mapped_column(String(16), default="message")
    request_id: Mapped[str | None] = mapped_column(
        String(64), ForeignKey("scenario_requests.id", ondelete="SET NULL"), nullable=True
    )
    code: Mapped[str | None] = mapped_column(Text, nullable=True)
    llm: Mapped[dict[str, Any] | None] = mapped_column(JSON, nullable=True)
    """``{"agent_id", "prompt"}``"""
    integration: Mapped[dict[str, Any] | None] = mapped_column(JSON, nullable=True)
    """``{"name": "telegram.send_message", "config": {...}}``"""
    variables: Mapped[dict[str, str]] = mapped_column(JSON, default=dict)
    """Variable name -> JSONPath over the action's result."""


class Connection(TimestampMixin, Base):
    __tablename__ = "scenario_connections"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    org_id: Mapped[str] = _org()
    bot_id: Mapped[str] = _bot()
    group_id: Mapped[str] = mapped_column(
        String(64), ForeignKey("scenario_connection_groups.id", ondelete="CASCADE"), index=True
    )
    rules: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    filters: Mapped[list[str]] = mapped_column(JSON, default=list)
    priority: Mapped[int] = mapped_column(Integer, default=0)
    next_step_id: Mapped[str | None] = mapped_column(
        String(64), ForeignKey("scenario_steps.id", ondelete="RESTRICT"), nullable=True, index=True
    )


class Request(TimestampMixin, Base):
    """An HTTP request a ``response`` group makes."""

    __tablename__ = "scenario_requests"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    org_id: Mapped[str] = _org()
    bot_id: Mapped[str] = _bot()
    key: Mapped[str | None] = mapped_column(String(64), nullable=True)
    name: Mapped[str] = mapped_column(String(200), default="")
    method: Mapped[str] = mapped_column(String(8), default="GET")
    url: Mapped[str] = mapped_column(Text)
    headers: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    params: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    body: Mapped[Any] = mapped_column(JSON, nullable=True)
    body_type: Mapped[str] = mapped_column(String(16), default="json")
    """``json``, ``form`` or ``multipart``."""
    files: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    """Multipart files: ``[{"field", "file_id"}]`` (``file_id`` may be substituted)."""
    timeout: Mapped[float] = mapped_column(Float, default=10.0)


class Template(TimestampMixin, Base):
    """Reusable steps with inputs and outputs, of an organisation (not of one bot)."""

    __tablename__ = "scenario_templates"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    org_id: Mapped[str] = _org()
    key: Mapped[str | None] = mapped_column(String(64), nullable=True)
    name: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text, default="")
    inputs: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    """JSON Schema of the inputs."""
    outputs: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    """JSON Schema of the outputs."""
    variables: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    document: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    """Its steps as in a bot document: ``{"first_step", "steps": [...], "requests": [...]}``."""


class BotCron(TimestampMixin, Base):
    """Runs ``step_id`` for every session of the bot that has not ended, by ``cron``."""

    __tablename__ = "scenario_bot_crons"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    org_id: Mapped[str] = _org()
    bot_id: Mapped[str] = _bot()
    cron: Mapped[str] = mapped_column(String(120))
    timezone: Mapped[str] = mapped_column(String(64), default="UTC")
    step_id: Mapped[str] = mapped_column(String(64), ForeignKey("scenario_steps.id", ondelete="CASCADE"))
    enabled: Mapped[bool] = mapped_column(Boolean, default=True)
    next_run_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True, index=True)
    lease_until: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    lease_owner: Mapped[str | None] = mapped_column(String(64), nullable=True)


class ScenarioSession(Base):
    """Where one end user is in a bot, on one channel, and the session's variables."""

    __tablename__ = "scenario_sessions"
    __table_args__ = (UniqueConstraint("bot_id", "user_key", "channel"),)

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    org_id: Mapped[str] = _org()
    bot_id: Mapped[str] = _bot()
    user_key: Mapped[str] = mapped_column(String(200))
    """The end user: ``user:<id>`` (an account), ``<channel>:<platform user id>`` or ``anonymous:<client>``."""
    channel: Mapped[str] = mapped_column(String(32), default="web")
    chat_id: Mapped[str | None] = mapped_column(String(128), nullable=True)
    """The chat its messages go to (the last one the user wrote from)."""
    step_id: Mapped[str | None] = mapped_column(String(STEP_KEY_LENGTH), nullable=True)
    """The step it waits in (None: at the start); ``<instance>/<step>`` inside a template."""
    version: Mapped[int | None] = mapped_column(Integer, nullable=True)
    variables: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    """``session.*``"""
    frames: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    """Template instances it is inside of, innermost last."""
    last_message_id: Mapped[str | None] = mapped_column(String(64), nullable=True)
    """The last message handled: one delivered again does not move the session twice."""
    last_reply: Mapped[list[dict[str, Any]] | None] = mapped_column(JSON, nullable=True)
    """What the bot sent for that message: sent again, not made again, when it is redelivered."""
    is_test: Mapped[bool] = mapped_column(Boolean, default=False)
    """A test chat's session: runs the draft."""
    started_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)


class UserVariables(Base):
    """``user.*`` variables of one end user, shared by the organisation's bots."""

    __tablename__ = "scenario_user_variables"

    org_id: Mapped[str] = mapped_column(
        String(64), ForeignKey("organizations.id", ondelete="CASCADE"), primary_key=True
    )
    user_key: Mapped[str] = mapped_column(String(200), primary_key=True)
    variables: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class StepEvent(Base):
    """A session entering a step, or moving on from it: the funnel of the analytics."""

    __tablename__ = "scenario_step_events"
    __table_args__ = (Index("ix_scenario_step_events_bot_at", "bot_id", "at"),)

    seq: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    org_id: Mapped[str] = mapped_column(String(64), index=True)
    bot_id: Mapped[str] = mapped_column(String(64), ForeignKey("bots.id", ondelete="CASCADE"))
    step_id: Mapped[str] = mapped_column(String(STEP_KEY_LENGTH))
    session_id: Mapped[str] = mapped_column(String(64))
    kind: Mapped[str] = mapped_column(String(16))
    """``entered`` or ``moved_on``."""
    at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class DelayedMove(Base):
    """A step's delayed move of one session, due at ``due_at`` (the scheduler fires it once)."""

    __tablename__ = "scenario_delayed_moves"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    org_id: Mapped[str] = _org()
    bot_id: Mapped[str] = _bot()
    session_id: Mapped[str] = mapped_column(
        String(64), ForeignKey("scenario_sessions.id", ondelete="CASCADE"), index=True
    )
    from_step_id: Mapped[str] = mapped_column(String(STEP_KEY_LENGTH))
    next_step_id: Mapped[str] = mapped_column(String(STEP_KEY_LENGTH))
    due_at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)
    lease_until: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    lease_owner: Mapped[str | None] = mapped_column(String(64), nullable=True)
    done_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
