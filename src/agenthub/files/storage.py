"""Where the bytes of uploaded files live: one small interface, two backends.

:class:`LocalFileStorage` (the default) keeps each file under ``DATA_DIR/files``;
:class:`~agenthub.files.s3.S3FileStorage` keeps it in an S3-compatible bucket (``S3_BUCKET``).
Only the entry points choose one (:func:`open_storage`) and pass it down. Keys are made by
:mod:`agenthub.files.service` (``<org id>/<file id>``), never taken from user input; a key
of any other shape is refused here all the same, so no key can reach outside the store.
"""

from __future__ import annotations

import asyncio
import logging
import os
import re
import shutil
import tempfile
from abc import ABC, abstractmethod
from collections.abc import AsyncIterator
from pathlib import Path
from typing import BinaryIO

from agenthub.config import Settings
from agenthub.errors import NotFound, ServiceUnavailable

log = logging.getLogger(__name__)
CHUNK_BYTES = 256 * 1024
"""What a download reads from the storage at a time."""
_KEY = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]{0,63}/[A-Za-z0-9][A-Za-z0-9_-]{0,63}$")


class StoredBytesMissing(NotFound):
    """The storage has no bytes under the key (removed behind AgentHub's back)."""


class StorageUnavailable(ServiceUnavailable):
    """The storage could not be reached or refused the operation (503); what it said is logged."""


def check_key(key: str) -> str:
    """``key`` when it has the shape the service makes (``<org id>/<file id>``); ValueError else."""
    if not _KEY.fullmatch(key):
        raise ValueError(f"not a file storage key: {key!r}")
    return key


class FileStorage(ABC):
    """The bytes of files by key. Every method may raise the backend's own error when the
    storage can't be reached; reading a key with no bytes raises :class:`StoredBytesMissing`."""

    @abstractmethod
    async def put(self, key: str, source: BinaryIO) -> None:
        """Store what ``source`` holds (read from its start) under ``key``, replacing any
        bytes there; nothing is visible under the key until all of it is stored."""

    @abstractmethod
    def chunks(self, key: str) -> AsyncIterator[bytes]:
        """The bytes under ``key``, a chunk at a time."""

    async def read(self, key: str) -> bytes:
        """The bytes under ``key``, all at once."""
        return b"".join([chunk async for chunk in self.chunks(key)])

    @abstractmethod
    async def delete(self, key: str) -> None:
        """Remove the bytes under ``key``; a key with none is not an error."""

    def presigned_url(self, key: str, *, expires_in: int, file_name: str, content_type: str) -> str | None:
        """A URL that downloads the file without credentials for ``expires_in`` seconds, made by
        the storage itself; None where it can't make one (the gateway then signs its own)."""
        return None

    async def close(self) -> None:  # noqa: B027 - most storages hold nothing to release
        """Release what the storage holds (connections)."""


class LocalFileStorage(FileStorage):
    """Files under ``root`` (``DATA_DIR/files``): ``<root>/<org id>/<file id>``, written to a
    temporary file beside it and renamed into place."""

    def __init__(self, root: Path) -> None:
        self.root = root

    def _path(self, key: str) -> Path:
        return self.root / check_key(key)

    async def put(self, key: str, source: BinaryIO) -> None:
        path = self._path(key)
        try:
            await asyncio.to_thread(self._put, path, source)
        except OSError as error:
            log.error("storing a file failed: %s", error)
            raise StorageUnavailable("the file storage can't store files now") from None

    @staticmethod
    def _put(path: Path, source: BinaryIO) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        source.seek(0)
        handle = tempfile.NamedTemporaryFile(dir=path.parent, prefix=".upload-", delete=False)  # noqa: SIM115
        try:
            with handle:
                shutil.copyfileobj(source, handle, CHUNK_BYTES)
                handle.flush()
                os.fsync(handle.fileno())
            os.replace(handle.name, path)
        except BaseException:
            Path(handle.name).unlink(missing_ok=True)
            raise

    async def chunks(self, key: str) -> AsyncIterator[bytes]:
        path = self._path(key)
        try:
            handle = await asyncio.to_thread(path.open, "rb")
        except FileNotFoundError:
            raise StoredBytesMissing(f"the file's bytes are missing from the storage ({key})") from None
        try:
            while chunk := await asyncio.to_thread(handle.read, CHUNK_BYTES):
                yield chunk
        finally:
            handle.close()

    async def delete(self, key: str) -> None:
        await asyncio.to_thread(self._path(key).unlink, missing_ok=True)


def open_storage(settings: Settings) -> FileStorage:
    """The storage the settings name: S3 with ``S3_BUCKET``, else ``DATA_DIR/files``."""
    if settings.s3_bucket:
        from agenthub.files.s3 import S3FileStorage  # boto3 is loaded only where it is used

        return S3FileStorage.from_settings(settings)
    return LocalFileStorage(settings.data_dir / "files")
