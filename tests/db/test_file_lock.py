"""The lock an embedded server holds on its SQLite file, within one process: a second
holder is refused, the same holder may take it again, and a released lock can be taken."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from agenthub.db.file_lock import DatabaseFileLock, DatabaseInUse


def test_one_holder_at_a_time(tmp_path: Path) -> None:
    url = f"sqlite+aiosqlite:///{(tmp_path / 'data' / 'agenthub.db').as_posix()}"
    first, second = DatabaseFileLock.for_url(url), DatabaseFileLock.for_url(url)
    assert first is not None and second is not None
    first.acquire()
    first.acquire()  # held already: nothing to do
    assert first.path == tmp_path / "data" / "agenthub.db.lock"
    with pytest.raises(DatabaseInUse, match=f"pid {os.getpid()}"):
        second.acquire()
    assert not second.held
    first.release()
    second.acquire()
    assert second.held
    second.release()


def test_only_sqlite_files_have_one() -> None:
    assert DatabaseFileLock.for_url("sqlite+aiosqlite:///:memory:") is None
    assert DatabaseFileLock.for_url("postgresql+asyncpg://postgres@127.0.0.1/agenthub") is None
