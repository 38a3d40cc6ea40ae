"""The statements of a scenario message's session transaction (:mod:`.sessions`): SQLAlchemy
core on the tables, built once with named parameters, so a message costs no statement
building and no ORM unit of work."""

from __future__ import annotations

import functools
from typing import Any, cast

from sqlalchemy import Insert, Select, Table, Update, bindparam, insert, select, update

from agenthub.scenarios.models import Bot, ScenarioSession, StepEvent, UserVariables


def table(model: type) -> Table:
    """The table of a mapped class (statements on it skip the ORM's unit of work)."""
    return cast(Table, model.__table__)  # type: ignore[attr-defined]


@functools.cache
def read_session(dialect: str) -> Select[Any]:
    """The session of (bot, user, channel), joined with its bot's row and the user's variables."""
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
    return query.with_for_update(of=session) if dialect == "postgresql" else query


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
