"""The statements of a scenario message's session transaction (:mod:`.sessions`): SQLAlchemy
core on the tables, built once with named parameters, so a message costs no statement
building and no ORM unit of work."""

from __future__ import annotations

import functools
from dataclasses import dataclass
from typing import Any, cast

from sqlalchemy import (
    Insert,
    Select,
    String,
    Table,
    Update,
    bindparam,
    func,
    insert,
    literal_column,
    select,
    update,
)
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.engine import Dialect

from agenthub.db.driver_sql import DriverStatement
from agenthub.scenarios.models import Bot, ScenarioSession, StepEvent, UserVariables


def table(model: type) -> Table:
    """The table of a mapped class (statements on it skip the ORM's unit of work)."""
    return cast(Table, model.__table__)  # type: ignore[attr-defined]


@functools.cache
def read_session(dialect: str, *, locked: bool = True) -> Select[Any]:
    """The session of (bot, user, channel), joined with its bot's row and the user's
    variables; ``locked``: its row locked (``FOR UPDATE OF``) on PostgreSQL."""
    session, bot, people = table(ScenarioSession), table(Bot), table(UserVariables)
    query = (
        select(session.c.id, session.c.step_id, session.c.variables, session.c.frames, session.c.last_message_id,
               session.c.last_reply, session.c.updated_at, bot.c.org_id, bot.c.published_version,
               bot.c.variables.label("bot_variables"), people.c.variables.label("user_variables"))
        .select_from(session.join(bot, bot.c.id == session.c.bot_id).outerjoin(
            people, (people.c.org_id == bot.c.org_id) & (people.c.user_key == bindparam("user_key"))))
        .where(session.c.bot_id == bindparam("bot_id"), session.c.user_key == bindparam("session_user"),
               session.c.channel == bindparam("channel"))
    )
    return query.with_for_update(of=session) if dialect == "postgresql" and locked else query


@functools.cache
def save_session(*, with_chat: bool) -> Update:
    """The session's save, unless it was saved since it was read (its ``updated_at``)."""
    session = table(ScenarioSession)
    values: dict[str, Any] = {
        "step_id": bindparam("new_step"), "variables": bindparam("new_variables"),
        "frames": bindparam("new_frames"), "version": bindparam("new_version"),
        "last_message_id": bindparam("new_message"), "last_reply": bindparam("new_reply"),
        "updated_at": bindparam("now"),
    }
    if with_chat:
        values["chat_id"] = bindparam("new_chat")
    return update(session).where(
        session.c.id == bindparam("session_id"), session.c.updated_at == bindparam("saved_at")
    ).values(values)


@functools.cache
def insert_step_events() -> Insert:
    """Step events, one row each (sent as one batch)."""
    return insert(table(StepEvent))


@functools.cache
def save_session_with_events(*, with_chat: bool) -> Select[Any]:
    """PostgreSQL: the session's save (:func:`save_session`, guarded by its ``updated_at``)
    and its step events (the arrays ``event_steps`` and ``event_kinds``, in order), in one
    statement that commits on its own; it answers how many sessions it saved (0: saved
    since it was read, and no event written)."""
    session, events = table(ScenarioSession), table(StepEvent)
    saved = save_session(with_chat=with_chat).returning(session.c.id, session.c.org_id, session.c.bot_id).cte("saved")
    listed = func.unnest(
        bindparam("event_steps", type_=ARRAY(String)), bindparam("event_kinds", type_=ARRAY(String))
    ).table_valued("step_id", "kind", with_ordinality="n").render_derived(name="listed")
    written = insert(events).from_select(
        ["org_id", "bot_id", "step_id", "session_id", "kind", "at"],
        select(saved.c.org_id, saved.c.bot_id, listed.c.step_id, saved.c.id, listed.c.kind,
               bindparam("now", type_=events.c.at.type))
        .select_from(saved).join(listed, literal_column("true")).order_by(listed.c.n),
    ).cte("written")
    return select(func.count()).select_from(saved).add_cte(written)


@dataclass(frozen=True)
class DriverStatements:
    """The statements of a message handled at once on PostgreSQL, run by asyncpg itself."""

    read: DriverStatement
    """:func:`read_session`, without the lock."""
    save: DriverStatement
    """:func:`save_session_with_events`, the chat set."""
    save_no_chat: DriverStatement
    """:func:`save_session_with_events`, the chat kept."""


@functools.cache
def driver_statements(dialect: Dialect) -> DriverStatements:
    return DriverStatements(
        read=DriverStatement(read_session("postgresql", locked=False), dialect),
        save=DriverStatement(save_session_with_events(with_chat=True), dialect),
        save_no_chat=DriverStatement(save_session_with_events(with_chat=False), dialect),
    )
