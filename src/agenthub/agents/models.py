"""Agent configurations. An agent has two ids: ``handle``, the one its organisation chose
(unique within it), and ``id``, unique across organisations (see :class:`Agent`). A deleted
agent is kept, hidden, for DELETED_RETENTION_DAYS (``deleted_at`` set): its handle can't be
taken meanwhile, and what was recorded about it stays until the purge (:mod:`agenthub.workers.purge`)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Index, Integer, String
from sqlalchemy.engine.default import DefaultExecutionContext
from sqlalchemy.orm import Mapped, mapped_column

from agenthub.caller import DEFAULT_ORG
from agenthub.db.base import Base, TimestampMixin, UTCDateTime

__all__ = ["DEFAULT_ORG", "Agent"]


def _id_as_handle(context: DefaultExecutionContext) -> Any:
    """An agent stored without a handle is named by its id."""
    return context.get_current_parameters()["id"]


class Agent(TimestampMixin, Base):
    __tablename__ = "agents"
    __table_args__ = (Index("ix_agents_org_id_handle", "org_id", "handle", unique=True),)

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    """The internal id, unique across organisations: what the runtime, the bus, chats and
    usage know the agent by, and what visitors from elsewhere reach a public agent by (its
    ``address``)."""
    handle: Mapped[str] = mapped_column(String(64), nullable=True, default=_id_as_handle)
    """The id its organisation names it by (in paths and responses), unique within the
    organisation; the internal id unless another organisation had that id first."""
    org_id: Mapped[str] = mapped_column(String(64), index=True, default=DEFAULT_ORG)
    name: Mapped[str] = mapped_column(String(200))
    kind: Mapped[str] = mapped_column(String(32))
    settings: Mapped[dict[str, Any]] = mapped_column(JSON)
    config_version: Mapped[int] = mapped_column(Integer, default=1)
    owner_user_id: Mapped[str | None] = mapped_column(String(64), nullable=True, index=True)
    """The member whose personal agent this is (made from the organisation's template)."""
    deleted_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True, index=True)

    @property
    def address(self) -> str:
        """What callers from outside its organisation reach it by (a public agent)."""
        return self.id
