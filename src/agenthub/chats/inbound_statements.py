"""PostgreSQL: the statements that store a group of inbound messages (see
:func:`agenthub.chats.service.record_inbound`), built once by SQLAlchemy and run by asyncpg
itself (:mod:`agenthub.db.driver_sql`): the chats' turn counts in one statement and the
messages in one, each over arrays (``unnest``) however many messages the group holds."""

from __future__ import annotations

import functools
from typing import Any, cast

from sqlalchemy import JSON, DateTime, Integer, Select, String, Table, Text, bindparam, func, select
from sqlalchemy import cast as sql_cast
from sqlalchemy.dialects import postgresql
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.engine import Dialect
from sqlalchemy.sql.dml import ReturningInsert

from agenthub.chats.models import Chat, ChatMessage
from agenthub.db.driver_sql import DriverStatement


def _table(model: type) -> Table:
    return cast(Table, model.__table__)  # type: ignore[attr-defined]


def _array(name: str, element: Any = None) -> Any:
    return bindparam(name, type_=ARRAY(element if element is not None else String))


@functools.cache
def count_turns() -> ReturningInsert[Any]:
    """The chats of the arrays ``chat_ids``, ``agent_ids`` and ``org_ids`` made, or ``turns``
    added to their turn count (in the order given: gateways lock the rows in the same
    order); answers each chat's count after it."""
    chats = _table(Chat)
    given = func.unnest(_array("chat_ids"), _array("agent_ids"), _array("org_ids"), _array("turns", Integer)
                        ).table_valued("id", "agent_id", "org_id", "turns", with_ordinality="n").render_derived(name="given")
    now = bindparam("now", type_=DateTime(timezone=True))
    insert = postgresql.insert(chats).from_select(
        ["id", "agent_id", "org_id", "turns", "created_at", "last_message_at"],
        select(given.c.id, given.c.agent_id, given.c.org_id, given.c.turns, now, now).order_by(given.c.n),
    )
    return insert.on_conflict_do_update(
        index_elements=[chats.c.id, chats.c.agent_id],
        set_={"turns": chats.c.turns + insert.excluded.turns, "last_message_at": insert.excluded.last_message_at},
    ).returning(chats.c.id, chats.c.agent_id, chats.c.turns)


@functools.cache
def add_messages() -> Any:
    """The users' messages of the arrays (one element each; ``attachments`` JSON texts or
    None), in order; a message stored already (same id) is skipped."""
    messages = _table(ChatMessage)
    given = func.unnest(
        _array("message_ids"), _array("agent_ids"), _array("chat_ids"), _array("positions", Integer),
        _array("contents", Text), _array("channels"), _array("platform_user_ids"), _array("user_keys"),
        _array("attachments", Text),
    ).table_valued("message_id", "agent_id", "chat_id", "position", "content", "channel", "platform_user_id",
                   "user_key", "attachments", with_ordinality="n").render_derived(name="given")
    rows: Select[Any] = select(
        given.c.message_id, given.c.agent_id, given.c.chat_id, given.c.position, bindparam("role", "user"),
        given.c.content, given.c.channel, given.c.platform_user_id, given.c.user_key,
        sql_cast(given.c.attachments, JSON), bindparam("now", type_=DateTime(timezone=True)),
    ).order_by(given.c.n)
    return postgresql.insert(messages).from_select(
        ["message_id", "agent_id", "chat_id", "position", "role", "content", "channel", "platform_user_id",
         "user_key", "attachments", "created_at"], rows,
    ).on_conflict_do_nothing()


@functools.cache
def statements(dialect: Dialect) -> tuple[DriverStatement, DriverStatement]:
    """:func:`count_turns` and :func:`add_messages`, compiled for ``dialect``."""
    return DriverStatement(count_turns(), dialect), DriverStatement(add_messages(), dialect)
