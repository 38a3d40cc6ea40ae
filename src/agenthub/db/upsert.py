"""Idempotent inserts that work the same on SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession


async def insert_ignoring_duplicates(
    session: AsyncSession, model: type, rows: Sequence[dict[str, Any]]
) -> int:
    """Insert rows; a row that breaks a unique constraint is skipped, not an error.
    Returns how many rows were new."""
    if not rows:
        return 0
    dialect = session.bind.dialect.name if session.bind else "sqlite"
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    statement = insert(model).values(list(rows)).on_conflict_do_nothing()
    result = await session.execute(statement)
    return max(result.rowcount or 0, 0)
