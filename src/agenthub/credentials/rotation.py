"""``agenthub credentials rotate-key``: every credential sealed again under a new key, in
one transaction.

The old key is the one the server uses (``SECRET_BOX_KEY``, or in the embedded mode the key
file in ``DATA_DIR``). With the key file, the new key replaces it once the transaction is
committed (staged beside it first, so a failure leaves the old key and the old seals);
with ``SECRET_BOX_KEY`` the operator sets the new key everywhere and restarts.
"""

from __future__ import annotations

import contextlib
import os
from dataclasses import dataclass
from pathlib import Path

from agenthub.config import ConfigurationError, Settings
from agenthub.credentials import service
from agenthub.credentials.secret_box import CredentialBox, generate_key, key_file, load_box, stage_key_file
from agenthub.db import migrate
from agenthub.db.engine import create_engine, create_session_factory, session_scope
from agenthub.db.file_lock import DatabaseFileLock
from agenthub.errors import DatabaseNotMigrated


@dataclass(frozen=True, slots=True)
class Rotation:
    resealed: int
    key_file: Path | None
    """Where the new key now is, when the server reads its key from a file."""
    new_key: str | None
    """The new key, when it was generated here and the operator must set it (SECRET_BOX_KEY)."""


def _current_box(settings: Settings) -> CredentialBox:
    box = load_box(settings, create=False)
    if box is not None:
        return box
    if settings.embedded:
        raise ConfigurationError(
            f"No key to rotate from: SECRET_BOX_KEY is not set and {key_file(settings)} does not exist "
            "(it is made when `agenthub serve` first starts)."
        )
    raise ConfigurationError("No key to rotate from: set SECRET_BOX_KEY to the key the credentials are sealed with.")


def _new_box(new_key: str | None) -> tuple[CredentialBox, str]:
    text = new_key.strip() if new_key is not None else generate_key()
    try:
        return CredentialBox.from_text(text), text
    except ValueError as error:
        raise ConfigurationError(f"--new-key {error}") from None


async def rotate_key(settings: Settings, *, new_key: str | None = None) -> Rotation:
    """Re-seal every credential under ``new_key`` (a new one when None); see the module.
    Refused while an embedded server serves the same database (it holds the old key)."""
    old = _current_box(settings)
    new, new_text = _new_box(new_key)
    uses_file = settings.secret_box_key is None
    lock = DatabaseFileLock.for_url(settings.effective_database_url) if settings.embedded else None
    if lock is not None:
        lock.acquire()
    try:
        staged = stage_key_file(key_file(settings), new_text) if uses_file else None
        try:
            resealed = await _reseal(settings, old=old, new=new)
        except BaseException:
            if staged is not None:
                with contextlib.suppress(OSError):
                    staged.unlink()
            raise
        if staged is not None:
            os.replace(staged, key_file(settings))
    finally:
        if lock is not None:
            lock.release()
    return Rotation(
        resealed=resealed,
        key_file=key_file(settings) if uses_file else None,
        new_key=new_text if not uses_file and new_key is None else None,
    )


async def _reseal(settings: Settings, *, old: CredentialBox, new: CredentialBox) -> int:
    engine = create_engine(settings.effective_database_url, pool_size=1)
    try:
        if not await migrate.is_up_to_date(engine):
            raise DatabaseNotMigrated(
                "The database is not migrated to this version of AgentHub: run `agenthub migrate` "
                "(or start `agenthub serve` once on SQLite) first."
            )
        async with session_scope(create_session_factory(engine)) as session:
            return await service.reseal_all(session, old=old, new=new)
    finally:
        await engine.dispose()
