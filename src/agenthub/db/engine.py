"""Engine and session factory. Opened by an entry point, passed to whoever needs it."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from sqlalchemy import event
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)

SessionFactory = async_sessionmaker[AsyncSession]


def create_engine(url: str, *, pool_size: int = 20) -> AsyncEngine:
    """The engine for ``url``. Its errors never show a statement's values (they can hold
    message text or secrets), neither to a log nor in an exception's text."""
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        if parsed.database and parsed.database != ":memory:":
            Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
        # One connection: SQLite has one writer at a time, and writers from several
        # connections of one process wait for each other in SQLite's busy handler, which
        # sleeps in steps of up to 100 ms. Queueing for the one connection costs nothing.
        # (So no code path may hold a session while it opens another.)
        engine = create_async_engine(
            url, connect_args={"timeout": 30}, pool_size=1, max_overflow=0, pool_timeout=60, hide_parameters=True
        )
        event.listen(engine.sync_engine, "connect", _sqlite_pragmas)
        return engine
    # The pool holds as many connections as the busiest moments use: connections opened
    # beyond it (overflow) are closed as soon as they are returned, and opening one costs
    # far more than the statement it was opened for. No pre-ping: on asyncpg it is three
    # round trips per checkout. A connection that broke (the server restarted) fails its
    # statement once, and SQLAlchemy then replaces every connection opened before that.
    return create_async_engine(url, pool_size=pool_size, max_overflow=pool_size // 2, hide_parameters=True)


def _sqlite_pragmas(dbapi_connection, _record) -> None:  # type: ignore[no-untyped-def]
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.close()


def create_session_factory(engine: AsyncEngine) -> SessionFactory:
    return async_sessionmaker(engine, expire_on_commit=False)


@asynccontextmanager
async def session_scope(factory: SessionFactory) -> AsyncIterator[AsyncSession]:
    """A session that commits on success and rolls back on any error."""
    async with factory() as session:
        try:
            yield session
            await session.commit()
        except BaseException:
            await session.rollback()
            raise
