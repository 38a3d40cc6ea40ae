"""Statements run on asyncpg's own connection (``agenthub.db.driver_sql``): the same values in
and out as through SQLAlchemy, no transaction of their own unless in a transaction of
asyncpg's (``driver_transaction``), never inside one SQLAlchemy began, and a connection that
broke under one is not lent again."""

from __future__ import annotations

from collections.abc import AsyncIterator

import asyncpg
import pytest
from sqlalchemy import (
    JSON,
    Column,
    DateTime,
    Integer,
    MetaData,
    String,
    Table,
    bindparam,
    insert,
    select,
    text,
)
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncEngine

from agenthub.db.base import utcnow
from agenthub.db.driver_sql import DriverStatement, driver_transaction
from agenthub.db.engine import create_engine
from agenthub.errors import is_unavailable

metadata = MetaData()
notes = Table(
    "driver_notes", metadata,
    Column("id", String(32), primary_key=True),
    Column("body", JSON),
    Column("n", Integer),
    Column("at", DateTime(timezone=True)),
)
ADD = insert(notes).values(id=bindparam("id"), body=bindparam("body"), n=bindparam("n"), at=bindparam("at")).returning(
    notes.c.n)
READ = select(notes.c.id, notes.c.body, notes.c.n, notes.c.at).where(notes.c.id == bindparam("id"))


@pytest.fixture
async def engine(postgres_url: str) -> AsyncIterator[AsyncEngine]:
    """An engine on PostgreSQL with the notes table."""
    engine = create_engine(postgres_url)
    async with engine.begin() as connection:
        await connection.run_sync(metadata.create_all)
    yield engine
    await engine.dispose()


async def test_values_go_in_and_come_out_as_through_sqlalchemy_each_statement_committed(engine: AsyncEngine) -> None:
    add, read = DriverStatement(ADD, engine.dialect), DriverStatement(READ, engine.dialect)
    body, at = {"text": "ünïcode ✓", "items": [1, 2.5, None, True], "nested": {"a": "b"}}, utcnow()
    async with engine.connect() as connection:
        assert await add.fetchval(connection, {"id": "n1", "body": body, "n": 7, "at": at}) == 7
        row = await read.fetchrow(connection, {"id": "n1"})
        assert (row["body"], row["n"], row["at"]) == (body, 7, at)
        assert await read.fetchrow(connection, {"id": "missing"}) is None
        assert not connection.in_transaction()
    # Committed on its own: another connection, through SQLAlchemy, reads the same.
    async with engine.connect() as connection:
        found = (await connection.execute(READ, {"id": "n1"})).one()
    assert (found.body, found.n, found.at) == (body, 7, at)


async def test_inside_a_transaction_sqlalchemy_began_it_refuses(postgres_url: str) -> None:
    engine = create_engine(postgres_url)
    try:
        async with engine.begin() as connection:
            await connection.run_sync(metadata.create_all)
            with pytest.raises(RuntimeError, match="outside SQLAlchemy's transactions"):
                await DriverStatement(READ, engine.dialect).fetchrow(connection, {"id": "n1"})
    finally:
        await engine.dispose()


async def test_a_connection_that_broke_is_not_lent_again(postgres_url: str) -> None:
    engine = create_engine(postgres_url, pool_size=1)
    admin = await asyncpg.connect(postgres_url.replace("postgresql+asyncpg://", "postgresql://", 1))
    try:
        async with engine.begin() as connection:
            await connection.run_sync(metadata.create_all)
        read = DriverStatement(READ, engine.dialect)
        async with engine.connect() as connection:
            pid = await connection.scalar(text("SELECT pg_backend_pid()"))
            await connection.commit()
            await admin.execute("SELECT pg_terminate_backend($1, 10000)", pid)  # the server drops it
            with pytest.raises(ConnectionError) as broken:
                await read.fetchrow(connection, {"id": "n1"})
            assert is_unavailable(broken.value)  # an outage (503), not a bug
        async with engine.connect() as connection:  # the pool's one connection: a new one
            assert await connection.scalar(text("SELECT pg_backend_pid()")) != pid
            await connection.commit()
            assert await read.fetchrow(connection, {"id": "n1"}) is None
    finally:
        await admin.close()
        await engine.dispose()


async def test_statements_in_a_driver_transaction_commit_together_or_not_at_all(engine: AsyncEngine) -> None:
    add, read = DriverStatement(ADD, engine.dialect), DriverStatement(READ, engine.dialect)
    async with engine.connect() as connection:
        with pytest.raises(IntegrityError):  # the second n1: refused as SQLAlchemy's own statements are
            async with driver_transaction(connection):
                await add.fetchval(connection, {"id": "n1", "body": None, "n": 1, "at": None})
                await add.fetchval(connection, {"id": "n1", "body": None, "n": 2, "at": None})
        assert await read.fetchrow(connection, {"id": "n1"}) is None  # the first rolled back with it
        async with driver_transaction(connection):
            await add.fetchval(connection, {"id": "n1", "body": None, "n": 1, "at": None})
            await add.fetchval(connection, {"id": "n2", "body": None, "n": 2, "at": None})
    async with engine.connect() as connection:
        assert [row.n for row in await connection.execute(select(notes.c.n).order_by(notes.c.n))] == [1, 2]
