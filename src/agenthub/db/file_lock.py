"""One embedded server per SQLite file.

An embedded server's bus lives in its own memory: a second server on the same file would
start with a bus of its own and answer the same messages again. While it serves, a server
holds an exclusive OS lock (``flock``) on ``<database file>.lock``; a second one is refused.
The OS releases the lock when the holder exits, however it exits, so a server that was
killed never leaves a stale lock behind. The lock file itself stays (removing it would let
two servers lock two different files of the same name).
"""

from __future__ import annotations

import fcntl
import os
from pathlib import Path

from sqlalchemy.engine import make_url

from agenthub.errors import AgentHubError


class DatabaseInUse(AgentHubError):
    """Another server is serving this SQLite file."""


class DatabaseFileLock:
    def __init__(self, database: Path) -> None:
        self.database = database.resolve()
        self.path = self.database.with_name(self.database.name + ".lock")
        self._fd: int | None = None

    @classmethod
    def for_url(cls, url: str) -> DatabaseFileLock | None:
        """The lock of the SQLite file ``url`` names; None for any other database."""
        parsed = make_url(url)
        if parsed.get_backend_name() != "sqlite" or not parsed.database or parsed.database == ":memory:":
            return None
        return cls(Path(parsed.database))

    @property
    def held(self) -> bool:
        return self._fd is not None

    def acquire(self) -> None:
        """Take the lock (nothing to do when this object holds it already); raise
        :class:`DatabaseInUse` when another process holds it."""
        if self._fd is not None:
            return
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = os.read(fd, 32).decode(errors="replace").strip()
            os.close(fd)
            raise DatabaseInUse(
                f"Another AgentHub{f' (pid {holder})' if holder.isdigit() else ''} is serving the database "
                f"file {self.database}: stop it, or give this one its own DATA_DIR or DATABASE_URL."
            ) from None
        except BaseException:
            os.close(fd)
            raise
        os.ftruncate(fd, 0)
        os.write(fd, str(os.getpid()).encode())
        self._fd = fd

    def release(self) -> None:
        if self._fd is not None:
            fd, self._fd = self._fd, None
            os.ftruncate(fd, 0)
            os.close(fd)  # closing the only descriptor releases the lock
