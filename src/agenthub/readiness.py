"""What a starting server checks of the database and the bus before it serves: light enough
for ``agenthub serve`` to run before it imports the app, so a database to migrate, a bus
out of reach or another server on the same SQLite file is told in a second."""

from __future__ import annotations

import asyncio

from sqlalchemy.ext.asyncio import AsyncEngine

from agenthub.bus import Bus
from agenthub.config import Settings, mask_url
from agenthub.db import migrate
from agenthub.db.file_lock import DatabaseFileLock
from agenthub.errors import DatabaseNotMigrated, ServiceUnavailable, is_unavailable

BUS_CHECK_TIMEOUT = 10.0
"""Seconds start-up waits for the bus to answer (a firewalled host may never refuse)."""


async def prepare_database(settings: Settings, engine: AsyncEngine) -> None:
    """SQLite (the embedded default) migrates itself; any other database must have been
    migrated with ``agenthub migrate`` (else DatabaseNotMigrated)."""
    if settings.uses_sqlite:
        await migrate.upgrade(engine)
    elif not await migrate.is_up_to_date(engine):
        raise DatabaseNotMigrated(
            "The database is not migrated to this version of AgentHub: run `agenthub migrate` first."
        )


async def prepare_bus(settings: Settings, bus: Bus) -> None:
    """Refuse to start, in one line naming the bus (its password masked), when it can't be
    reached. The in-process bus always can."""
    try:
        await asyncio.wait_for(bus.ping(), BUS_CHECK_TIMEOUT)
    except Exception as error:
        if not (is_unavailable(error) or isinstance(error, OSError)):  # OSError: a timeout too
            raise
        reason = str(error) or f"no answer within {BUS_CHECK_TIMEOUT:g} s"
        raise ServiceUnavailable(
            f"Cannot reach the bus at {mask_url(settings.redis_url or '')}: {reason}"
        ) from error


def embedded_database_lock(settings: Settings) -> DatabaseFileLock | None:
    """The lock an embedded server holds on its SQLite file (see :mod:`agenthub.db.file_lock`);
    None with Redis, whose servers share one bus and may serve one database together."""
    return DatabaseFileLock.for_url(settings.effective_database_url) if settings.embedded else None
