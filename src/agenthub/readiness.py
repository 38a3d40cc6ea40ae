"""What a starting server checks of the database and the bus before it serves: light enough
for ``agenthub serve`` to run before it imports the app, so a database to migrate, a bus
out of reach or another server on the same SQLite file is told in a second."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncEngine

from agenthub.bus import Bus, ensure_reachable
from agenthub.config import Settings, mask_url
from agenthub.db import migrate
from agenthub.db.file_lock import DatabaseFileLock


async def prepare_database(settings: Settings, engine: AsyncEngine) -> None:
    """SQLite (the embedded default) migrates itself; any other database must have been
    migrated with ``agenthub migrate`` (else DatabaseNotMigrated)."""
    await migrate.prepare(engine, migrates_itself=settings.uses_sqlite)


async def prepare_bus(settings: Settings, bus: Bus) -> None:
    """Refuse to start, in one line naming the bus (its password masked), when it can't be
    reached. The in-process bus always can."""
    await ensure_reachable(bus, shown_url=mask_url(settings.redis_url or ""))


def embedded_database_lock(settings: Settings) -> DatabaseFileLock | None:
    """The lock an embedded server holds on its SQLite file (see :mod:`agenthub.db.file_lock`);
    None with Redis, whose servers share one bus and may serve one database together."""
    return DatabaseFileLock.for_url(settings.effective_database_url) if settings.embedded else None
