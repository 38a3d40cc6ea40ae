"""Idempotent inserts that work the same on SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import Sequence
from functools import cache
from typing import Any

from sqlalchemy import Insert, inspect
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession


@cache
def _insert_ignoring(dialect: str, model: type) -> Insert:
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    # On the table, not the mapped class: a plain multi-row INSERT, without the ORM's bulk
    # machinery (which costs more than the statement here).
    return insert(inspect(model).local_table).on_conflict_do_nothing()


def dialect_of(session: AsyncSession | AsyncConnection) -> str:
    bind = session.get_bind() if isinstance(session, AsyncSession) else session
    return bind.dialect.name


async def insert_ignoring_duplicates(
    session: AsyncSession | AsyncConnection, model: type, rows: Sequence[dict[str, Any]]
) -> None:
    """Insert rows; a row that breaks a unique constraint is skipped, not an error.
    One statement object per table, so SQLAlchemy compiles it once and caches it."""
    if rows:
        await session.execute(_insert_ignoring(dialect_of(session), model), list(rows))
