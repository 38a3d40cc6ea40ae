"""The statements of a scenario message's session transaction (:mod:`.sessions`): SQLAlchemy
core on the tables, built once with named parameters, so a message costs no statement
building and no ORM unit of work."""

from __future__ import annotations

import functools
from dataclasses import dataclass
from typing import Any, cast

from sqlalchemy import (
    JSON,
    DateTime,
    Insert,
    Integer,
    Select,
    String,
    Table,
    Text,
    Update,
    bindparam,
    func,
    insert,
    select,
    update,
)
from sqlalchemy import cast as sql_cast
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


def _texts(name: str) -> Any:
    return bindparam(name, type_=ARRAY(String))


@functools.cache
def read_sessions() -> Select[Any]:
    """PostgreSQL: :func:`read_session` (no lock) for several messages in one statement: the
    sessions of the (bot, user, channel) given by the arrays ``bot_ids``, ``session_keys`` and
    ``channels`` (the user variables of ``user_keys``), each row with its place ``n`` (from
    1) in them; none for a session not made yet."""
    session, bot, people = table(ScenarioSession), table(Bot), table(UserVariables)
    asked = func.unnest(_texts("bot_ids"), _texts("session_keys"), _texts("channels"), _texts("user_keys")).table_valued(
        "bot_id", "session_key", "channel", "user_key", with_ordinality="n").render_derived(name="asked")
    return (
        select(asked.c.n, session.c.id, session.c.step_id, session.c.variables, session.c.frames,
               session.c.last_message_id, session.c.last_reply, session.c.updated_at, bot.c.org_id,
               bot.c.published_version, bot.c.variables.label("bot_variables"),
               people.c.variables.label("user_variables"))
        .select_from(
            asked.join(session, (session.c.bot_id == asked.c.bot_id) & (session.c.user_key == asked.c.session_key)
                       & (session.c.channel == asked.c.channel))
            .join(bot, bot.c.id == session.c.bot_id)
            .outerjoin(people, (people.c.org_id == bot.c.org_id) & (people.c.user_key == asked.c.user_key)))
    )


@functools.cache
def save_sessions() -> Select[Any]:
    """PostgreSQL: the saves of several sessions in one statement that commits on its own:
    element i of the arrays ``session_ids``, ``saved_ats``, ``steps``, ``variables``,
    ``frames`` (JSON texts), ``versions``, ``messages``, ``replies`` (JSON texts) and
    ``chats`` (None: the chat kept) is one session's save, made unless the session was saved
    since it was read (its ``updated_at`` is no longer ``saved_ats[i]``); the step events, in
    order, are the arrays ``event_sessions``, ``event_steps`` and ``event_kinds``, written for
    the sessions saved. Answers the ids of the sessions saved."""
    session, events = table(ScenarioSession), table(StepEvent)
    given = func.unnest(
        _texts("session_ids"), bindparam("saved_ats", type_=ARRAY(DateTime(timezone=True))), _texts("steps"),
        bindparam("variables", type_=ARRAY(Text)), bindparam("frames", type_=ARRAY(Text)),
        bindparam("versions", type_=ARRAY(Integer)), _texts("messages"), bindparam("replies", type_=ARRAY(Text)),
        _texts("chats"),
    ).table_valued("id", "saved_at", "step", "variables", "frames", "version", "message", "reply", "chat"
                   ).render_derived(name="given")
    saved = (
        update(session)
        .where(session.c.id == given.c.id, session.c.updated_at == given.c.saved_at)
        .values(step_id=given.c.step, variables=sql_cast(given.c.variables, JSON), frames=sql_cast(given.c.frames, JSON),
                version=given.c.version, last_message_id=given.c.message, last_reply=sql_cast(given.c.reply, JSON),
                chat_id=func.coalesce(given.c.chat, session.c.chat_id),
                updated_at=bindparam("now", type_=session.c.updated_at.type))
        .returning(session.c.id, session.c.org_id, session.c.bot_id)
        .cte("saved")
    )
    listed = func.unnest(_texts("event_sessions"), _texts("event_steps"), _texts("event_kinds")).table_valued(
        "session_id", "step_id", "kind", with_ordinality="n").render_derived(name="listed")
    written = insert(events).from_select(
        ["org_id", "bot_id", "step_id", "session_id", "kind", "at"],
        select(saved.c.org_id, saved.c.bot_id, listed.c.step_id, saved.c.id, listed.c.kind,
               bindparam("now", type_=events.c.at.type))
        .select_from(saved.join(listed, listed.c.session_id == saved.c.id)).order_by(listed.c.n),
    ).cte("written")
    return select(saved.c.id).add_cte(written)


@dataclass(frozen=True)
class DriverStatements:
    """The statements of messages handled at once on PostgreSQL, run by asyncpg itself."""

    read: DriverStatement
    """:func:`read_sessions`."""
    save: DriverStatement
    """:func:`save_sessions`."""


@functools.cache
def driver_statements(dialect: Dialect) -> DriverStatements:
    return DriverStatements(read=DriverStatement(read_sessions(), dialect), save=DriverStatement(save_sessions(), dialect))
