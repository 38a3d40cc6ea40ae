"""Core statements run on asyncpg's own connection, for a statement on every message's path.

SQLAlchemy builds the statement (once: compiled for the asyncpg dialect, ``$n`` parameters
in the order it gives) and lends the pooled connection; asyncpg runs it, preparing it once
per connection (its statement cache). A statement run this way skips SQLAlchemy's execution
(its compiled cache lookup, the greenlet hop, its result rows): on the machines measured
that is about 65 of the 77 microseconds of CPU a small statement costs. JSON values are
encoded here as SQLAlchemy would (``json.dumps``); what is read back is decoded by the
codec SQLAlchemy put on the connection. Only for connections in no transaction SQLAlchemy
began: each statement then commits on its own, or in a transaction of asyncpg's own
(:func:`driver_transaction`).
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import AsyncIterator, Mapping
from typing import Any, cast

import asyncpg
from sqlalchemy.engine import Dialect
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection
from sqlalchemy.sql import ClauseElement
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.sqltypes import JSON


class DriverStatement:
    """``statement`` compiled for ``dialect`` (asyncpg's), its parameters named."""

    def __init__(self, statement: ClauseElement, dialect: Dialect) -> None:
        compiled = cast(SQLCompiler, statement.compile(dialect=dialect))
        self.sql = compiled.string
        self._names: tuple[str, ...] = tuple(compiled.positiontup or ())
        self._json = frozenset(name for name in self._names if isinstance(compiled.binds[name].type, JSON))

    def args(self, params: Mapping[str, Any]) -> list[Any]:
        return [json.dumps(params[name]) if name in self._json and params[name] is not None else params[name]
                for name in self._names]

    async def fetchrow(self, connection: AsyncConnection, params: Mapping[str, Any]) -> Any:
        """The first row (an ``asyncpg.Record``, its columns by name), or None."""
        return await self._run("fetchrow", connection, params)

    async def fetch(self, connection: AsyncConnection, params: Mapping[str, Any]) -> list[Any]:
        """Every row (each an ``asyncpg.Record``)."""
        return list(await self._run("fetch", connection, params))

    async def fetchval(self, connection: AsyncConnection, params: Mapping[str, Any]) -> Any:
        """The first column of the first row."""
        return await self._run("fetchval", connection, params)

    async def _run(self, method: str, connection: AsyncConnection, params: Mapping[str, Any]) -> Any:
        driver = await _driver(connection)
        try:
            return await getattr(driver, method)(self.sql, *self.args(params))
        except _BROKEN as error:
            await _invalidate(connection, error)
            raise ConnectionError("the database connection broke") from error
        except asyncpg.IntegrityConstraintViolationError as error:  # as SQLAlchemy's own statements raise it
            raise IntegrityError(self.sql, None, error) from error


@contextlib.asynccontextmanager
async def driver_transaction(connection: AsyncConnection) -> AsyncIterator[None]:
    """A transaction of asyncpg's own on ``connection`` (none of SQLAlchemy's open on it):
    the driver statements run inside it commit together when the block ends, or not at all
    (an error in the block rolls it back)."""
    driver = await _driver(connection)
    try:
        async with driver.transaction():
            yield
    except _BROKEN as error:
        await _invalidate(connection, error)
        raise ConnectionError("the database connection broke") from error


_BROKEN = (OSError, asyncpg.PostgresConnectionError, asyncpg.InterfaceError, asyncpg.InternalClientError)
"""What a connection that broke raises (lost, closed, or the server going away; a statement
sent while the protocol still takes in the server's goodbye finds it in the wrong state)."""


async def _driver(connection: AsyncConnection) -> Any:
    if connection.in_transaction():
        raise RuntimeError("a driver statement runs outside SQLAlchemy's transactions")
    return (await connection.get_raw_connection()).driver_connection


async def _invalidate(connection: AsyncConnection, error: BaseException) -> None:
    """The pool must not lend a broken connection again (SQLAlchemy does this for its own
    statements): it is discarded; the caller raises a ``ConnectionError`` (an outage, as
    :func:`agenthub.errors.is_unavailable` says)."""
    with contextlib.suppress(Exception):
        await connection.invalidate(error if isinstance(error, Exception) else None)
