"""Files of an organisation: their rows, their bytes in the :class:`FileStorage`, signed
links, and the check that what a bot names (attachments, request files) is one of them.
No HTTP here."""

from __future__ import annotations

import logging
import re
import time
import uuid
from collections.abc import Awaitable, Callable, Iterable
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from agenthub.caller import Caller
from agenthub.db.engine import SessionFactory, session_scope
from agenthub.errors import Conflict, InvalidInput, NotFound
from agenthub.files.models import StoredFile
from agenthub.files.schemas import FileRead
from agenthub.files.signing import UrlSigner
from agenthub.files.storage import FileStorage, StorageUnavailable
from agenthub.files.upload import Upload

log = logging.getLogger(__name__)
API = "/api/v1/files"
_PLACEHOLDER = re.compile(r"\{\$[^{}$]+\$\}")


def download_path(file_id: str) -> str:
    return f"{API}/{file_id}/content"


def read(row: StoredFile) -> FileRead:
    return FileRead.model_validate({
        **{name: getattr(row, name) for name in ("id", "name", "content_type", "size", "sha256", "created_by",
                                                  "created_at")},
        "download_path": download_path(row.id),
    })


async def create(session: AsyncSession, *, caller: Caller, storage: FileStorage, upload: Upload) -> StoredFile:
    """Store the upload's bytes, then its row (flushed, not committed). Bytes stored for a
    row that can't be written are removed again."""
    file_id = f"fil_{uuid.uuid4().hex}"
    key = f"{caller.org_id}/{file_id}"
    await storage.put(key, upload.file)
    row = StoredFile(
        id=file_id, org_id=caller.org_id, name=upload.name, content_type=upload.content_type, size=upload.size,
        sha256=upload.sha256, storage_key=key, created_by=caller.subject,
    )
    session.add(row)
    try:
        await session.flush()
    except BaseException:
        await storage.delete(key)
        raise
    return row


async def list_(session: AsyncSession, *, org_id: str, limit: int, offset: int) -> tuple[list[StoredFile], int]:
    """A page of the organisation's files, the newest first, and how many it has."""
    where = StoredFile.org_id == org_id
    total = await session.scalar(select(func.count()).select_from(StoredFile).where(where)) or 0
    rows = await session.scalars(
        select(StoredFile).where(where).order_by(StoredFile.created_at.desc(), StoredFile.id.desc())
        .limit(limit).offset(offset)
    )
    return list(rows), total


async def get(session: AsyncSession, *, org_id: str | None, file_id: str) -> StoredFile:
    """The file (of ``org_id``, when given); NotFound otherwise."""
    row = await session.get(StoredFile, file_id)
    if row is None or (org_id is not None and row.org_id != org_id):
        raise NotFound(f"file {file_id!r} not found")
    return row


class FileInUse(Conflict):
    """A file that steps, requests or templates of a bot's draft name."""

    code = "file_in_use"

    def __init__(self, message: str, **extra: Any) -> None:
        super().__init__(message)
        self.extra = extra


UsesOf = Callable[..., Awaitable[dict[str, list[str]]]]
"""``uses(session, org_id=, file_id=) -> {"steps": [ids], ...}``: what names a file."""


async def _not_in_use(session: AsyncSession, org_id: str, file_id: str, uses_of: UsesOf | None) -> None:
    uses = await uses_of(session, org_id=org_id, file_id=file_id) if uses_of is not None else {}
    if any(uses.values()):
        said = "; ".join(f"{kind} {', '.join(ids)}" for kind, ids in uses.items() if ids)
        raise FileInUse(f"file {file_id!r} is in use by {said}: remove it from them first", **uses)


async def delete_(
    session: AsyncSession, *, org_id: str, file_id: str, storage: FileStorage, uses_of: UsesOf | None = None
) -> None:
    """The row, committed, then the bytes: a failure in between leaves bytes nobody names,
    never a file whose bytes are gone. FileInUse (409, naming them) while ``uses_of`` finds
    parts that name it (the scenarios domain's: steps, requests, templates of bot drafts)."""
    row = await get(session, org_id=org_id, file_id=file_id)
    await _not_in_use(session, org_id, file_id, uses_of)
    key = row.storage_key
    await session.delete(row)
    await session.commit()
    try:
        await storage.delete(key)
    except StorageUnavailable:
        log.warning("a deleted file's bytes stay in the storage", extra={"file_id": file_id})


def signed_url(
    row: StoredFile, *, storage: FileStorage, signer: UrlSigner, expires_in: int, base_url: str
) -> tuple[str, datetime]:
    """A link that downloads the file without credentials for ``expires_in`` seconds: the
    storage's own (S3: presigned), else the gateway's signed route under ``base_url``."""
    expires = int(time.time()) + expires_in
    url = storage.presigned_url(
        row.storage_key, expires_in=expires_in, file_name=row.name, content_type=row.content_type
    )
    if url is None:
        url = f"{base_url.rstrip('/')}{API}/{row.id}/signed?{signer.sign(row.id, expires)}"
    return url, datetime.fromtimestamp(expires, UTC)


async def require_files(session: AsyncSession, *, org_id: str, named: Iterable[tuple[str, object]]) -> None:
    """Each ``(field, file id)`` names a file of the organisation: InvalidInput (422) naming
    the field otherwise. An id made with variables (``{$session.upload$}``) is known only
    when the bot runs, and passes."""
    for where, file_id in named:
        if isinstance(file_id, str) and _PLACEHOLDER.search(file_id):
            continue
        found = isinstance(file_id, str) and await session.scalar(
            select(StoredFile.id).where(StoredFile.id == file_id, StoredFile.org_id == org_id)
        )
        if not found:
            said = f"no file {file_id!r} (upload it with POST {API})"
            raise InvalidInput(f"{where}: {said}", field=where, problem=said)


def named_in(part: dict[str, Any]) -> list[tuple[str, object]]:
    """The file ids a step's or request's fields (as sent) name, by field: ``message.attachments``
    and ``files[].file_id``."""
    message = part.get("message") or {}
    named: list[tuple[str, object]] = [
        (f"message.attachments.{index}", file_id) for index, file_id in enumerate(message.get("attachments") or [])
    ]
    for index, entry in enumerate(part.get("files") or []):
        named.append((f"files.{index}.file_id", entry.get("file_id") if isinstance(entry, dict) else None))
    return named


def file_reader(sessions: SessionFactory, storage: FileStorage) -> Callable[[str, str], Awaitable[tuple[str, str, bytes]]]:
    """``read_file(org_id, file_id) -> (name, content_type, bytes)`` for scenario actions."""

    async def read_file(org_id: str, file_id: str) -> tuple[str, str, bytes]:
        async with session_scope(sessions) as session:
            row = await get(session, org_id=org_id, file_id=file_id)
            name, content_type, key = row.name, row.content_type, row.storage_key
        return name, content_type, await storage.read(key)

    return read_file


async def mentions(session: AsyncSession, *, org_id: str | None, file_ids: Iterable[object]) -> list[str]:
    """How files a user sent are told to a model, one line each, in order: ``[attached:
    report.pdf (application/pdf), file fil_...]`` (never their bytes); a file deleted since
    is ``[attached: a file no longer available, file fil_...]``. ``org_id`` None: ids that
    were checked to be the organisation's when they were sent (a stored message's)."""
    ids = [str(file_id) for file_id in file_ids]
    if not ids:
        return []
    query = select(StoredFile.id, StoredFile.name, StoredFile.content_type).where(StoredFile.id.in_(ids))
    rows = await session.execute(query if org_id is None else query.where(StoredFile.org_id == org_id))
    known = {file_id: f"{name} ({content_type})" for file_id, name, content_type in rows.all()}
    return [f"[attached: {known.get(file_id, 'a file no longer available')}, file {file_id}]" for file_id in ids]
