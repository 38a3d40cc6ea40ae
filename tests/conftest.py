"""Shared fixtures: real SQLite, PostgreSQL and Redis.

PostgreSQL and Redis tests read ``TEST_DATABASE_URL`` and ``TEST_REDIS_URL``. Unset, they
skip with the reason; set but unreachable, they fail (that is how CI runs them).
"""

from __future__ import annotations

import asyncio
import os
import shutil
import uuid
import warnings
from collections.abc import AsyncIterator, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from agenthub.config import normalise_database_url

REDIS_ENV = "TEST_REDIS_URL"
DATABASE_ENV = "TEST_DATABASE_URL"


def _run(make_coroutine) -> None:  # type: ignore[no-untyped-def]
    """Run a coroutine to completion from sync code, even inside a running event loop."""
    with ThreadPoolExecutor(max_workers=1) as pool:
        pool.submit(lambda: asyncio.run(make_coroutine())).result()


def _require(env: str, what: str) -> str:
    url = os.environ.get(env)
    if not url:
        pytest.skip(f"{env} is not set: start {what} and set it to run this test")
    return url


@pytest.fixture(scope="session")
def redis_server_url() -> str:
    url = _require(REDIS_ENV, "Redis")

    async def _ping() -> None:
        import redis.asyncio as aioredis

        client = aioredis.Redis.from_url(url)
        try:
            await client.ping()
        finally:
            await client.aclose()

    try:
        _run(_ping)
    except Exception as error:  # noqa: BLE001 - any failure to connect fails the test
        pytest.fail(f"{REDIS_ENV}={url} is set but Redis is unreachable: {error}")
    return url


def _delete_keys(url: str, prefix: str) -> int:
    """Delete every key under ``prefix``; how many there were."""
    import redis

    client = redis.Redis.from_url(url)
    try:
        found = 0
        batch: list[bytes] = []
        for key in client.scan_iter(match=f"{prefix}*", count=1000):
            batch.append(key)
            if len(batch) == 500:
                found += client.unlink(*batch)
                batch = []
        if batch:
            found += client.unlink(*batch)
        return found
    finally:
        client.close()


@pytest.fixture(scope="session")
def _redis_prefixes_of_this_session() -> Iterator[list[str]]:
    """Every prefix handed out in this session. At its end, nothing may be left under any
    of them: what is there was written after its test ended (a process that outlived its
    test); it is deleted, and reported as a warning naming the prefixes."""
    prefixes: list[str] = []
    yield prefixes
    url = os.environ.get(REDIS_ENV)
    if not url or not prefixes:
        return
    late = [prefix for prefix in prefixes if _delete_keys(url, prefix)]
    if late:
        warnings.warn(
            f"Redis keys were written after their test ended, under {len(late)} prefixes ({', '.join(late[:5])}"
            f"{', ...' if len(late) > 5 else ''}); they were deleted",
            stacklevel=1,
        )


@pytest.fixture
def redis_prefix(_redis_prefixes_of_this_session: list[str]) -> Iterator[str]:
    """A key prefix of its own for each test, so tests never see each other's keys; what
    the test left under it is deleted when it ends, so the suite leaves Redis as it found it
    (other sessions' prefixes are never touched)."""
    prefix = f"test:{uuid.uuid4().hex[:10]}:"
    _redis_prefixes_of_this_session.append(prefix)
    yield prefix
    url = os.environ.get(REDIS_ENV)
    if url:
        _delete_keys(url, prefix)


@pytest.fixture(scope="session")
def postgres_server_url() -> str:
    return normalise_database_url(_require(DATABASE_ENV, "PostgreSQL"))


def _postgres_admin(postgres_server_url: str):  # type: ignore[no-untyped-def]
    """Run one statement on the server's own database (CREATE/DROP DATABASE)."""
    import asyncpg
    from sqlalchemy.engine import make_url

    admin_dsn = make_url(postgres_server_url).set(drivername="postgresql").render_as_string(hide_password=False)

    def run(sql: str) -> None:
        async def _admin() -> None:
            connection = await asyncpg.connect(admin_dsn)
            try:
                await connection.execute(sql)
            finally:
                await connection.close()

        _run(_admin)

    return run


def _new_postgres_database(postgres_server_url: str, *, template: str | None = None) -> Iterator[str]:
    """A database of its own (a copy of ``template``, else empty), dropped afterwards."""
    from sqlalchemy.engine import make_url

    admin = _postgres_admin(postgres_server_url)
    name = f"agenthub_test_{uuid.uuid4().hex[:12]}"
    try:
        admin(f'CREATE DATABASE "{name}"' + (f' TEMPLATE "{template}"' if template else ""))
    except Exception as error:  # noqa: BLE001
        pytest.fail(f"{DATABASE_ENV} is set but PostgreSQL is unreachable: {error}")
    yield make_url(postgres_server_url).set(database=name).render_as_string(hide_password=False)
    admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


async def _migrate(url: str) -> None:
    from tests.agents.helpers import migrated

    await migrated(url)


@pytest.fixture(scope="session")
def _migrated_postgres_template(postgres_server_url: str) -> Iterator[str]:
    """A database migrated to the newest revision once per test process: each test's
    database is made from it (``CREATE DATABASE ... TEMPLATE``), as an app or ``agenthub
    migrate`` would leave an empty one, without running every migration for every test."""
    from sqlalchemy.engine import make_url

    database = _new_postgres_database(postgres_server_url)
    url = next(database)
    _run(lambda: _migrate(url))
    yield str(make_url(url).database)
    next(database, None)  # dropped


@pytest.fixture
def postgres_url(postgres_server_url: str, _migrated_postgres_template: str) -> Iterator[str]:
    """A database of its own for each test, migrated to the newest revision and holding
    nothing else, dropped afterwards."""
    yield from _new_postgres_database(postgres_server_url, template=_migrated_postgres_template)


@pytest.fixture
def empty_postgres_url(postgres_server_url: str) -> Iterator[str]:
    """A fresh, empty database of its own (not migrated), dropped afterwards."""
    yield from _new_postgres_database(postgres_server_url)


@pytest.fixture(scope="session")
def _migrated_sqlite_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A SQLite file migrated to the newest revision once per test process (see
    :func:`_migrated_postgres_template`): each test's database starts as a copy of it."""
    path = tmp_path_factory.mktemp("migrated") / "agenthub.db"
    _run(lambda: _migrate(f"sqlite+aiosqlite:///{path.as_posix()}"))
    return path


@pytest.fixture
def sqlite_url(tmp_path: Path, _migrated_sqlite_file: Path) -> str:
    """A SQLite file of its own for each test, migrated to the newest revision and holding
    nothing else."""
    path = tmp_path / "agenthub.db"
    shutil.copyfile(_migrated_sqlite_file, path)
    return f"sqlite+aiosqlite:///{path.as_posix()}"


@pytest.fixture
def empty_sqlite_url(tmp_path: Path) -> str:
    """A SQLite file of its own that does not exist yet (not migrated)."""
    return f"sqlite+aiosqlite:///{(tmp_path / 'agenthub.db').as_posix()}"


@pytest.fixture(params=["sqlite", "postgres"])
def empty_database_url(request: pytest.FixtureRequest) -> str:
    """:func:`database_url`, not migrated: for the tests of the migrations themselves."""
    return str(request.getfixturevalue(f"empty_{request.param}_url"))


@pytest.fixture(params=["sqlite", "postgres"])
def database_url(request: pytest.FixtureRequest) -> str:
    """Runs a test on SQLite and on PostgreSQL."""
    if request.param == "sqlite":
        return request.getfixturevalue("sqlite_url")
    return request.getfixturevalue("postgres_url")


@pytest.fixture(params=["memory", "redis"])
async def bus(request: pytest.FixtureRequest) -> AsyncIterator[object]:
    """Runs a test on the in-process bus and on Redis."""
    from agenthub.bus import open_bus

    if request.param == "memory":
        instance = open_bus(None)
    else:
        instance = open_bus(
            request.getfixturevalue("redis_server_url"),
            prefix=request.getfixturevalue("redis_prefix"),
        )
    yield instance
    await instance.close()
