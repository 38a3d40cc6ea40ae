"""File routes: thin; the logic is in :mod:`agenthub.files.service`. A file is its
organisation's: any member or API key of it may use it; another organisation's is 404.
Downloads are attachments with ``nosniff`` and a CSP that runs nothing, so an uploaded page
never runs as AgentHub's."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Query, Request, status
from fastapi.responses import StreamingResponse
from starlette.requests import HTTPConnection

from agenthub.audit.deps import AuditDep
from agenthub.deps import CallerDep, SessionDep, SettingsDep
from agenthub.files import service
from agenthub.files.checks import TypePolicy, attachment_disposition
from agenthub.files.models import StoredFile
from agenthub.files.schemas import FilePage, FileRead, SignedUrl
from agenthub.files.signing import UrlSigner
from agenthub.files.storage import FileStorage
from agenthub.files.upload import receive
from agenthub.json_input import StrictJSONRoute
from agenthub.ops.openapi import PUBLIC, error_responses
from agenthub.scenarios import file_uses

router = APIRouter(prefix=service.API, tags=["files"], route_class=StrictJSONRoute)
uploads = APIRouter(prefix=service.API, tags=["files"])
"""The upload route: a multipart body, not JSON."""
FileId = Annotated[str, Path(max_length=64, description="The file's id")]
MAX_LINK_SECONDS = 7 * 24 * 3600
DOWNLOAD_HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "Content-Security-Policy": "default-src 'none'; sandbox",
    "Cache-Control": "private, no-store",
}


async def _storage(connection: HTTPConnection) -> FileStorage:
    storage: FileStorage = connection.app.state.file_storage
    return storage


async def _signer(connection: HTTPConnection) -> UrlSigner:
    signer: UrlSigner = connection.app.state.file_signer
    return signer


StorageDep = Annotated[FileStorage, Depends(_storage)]
SignerDep = Annotated[UrlSigner, Depends(_signer)]

UPLOAD_BODY = {
    "requestBody": {
        "required": True,
        "content": {"multipart/form-data": {"schema": {
            "type": "object", "required": ["file"],
            "properties": {"file": {"type": "string", "format": "binary",
                                    "description": "The file, with its name and media type"}},
        }}},
    }
}
BINARY: dict[int | str, dict[str, Any]] = {200: {"description": "The file's bytes, as an attachment",
                "content": {"application/octet-stream": {"schema": {"type": "string", "format": "binary"}}}}}


@uploads.post(
    "", status_code=status.HTTP_201_CREATED, response_model=FileRead,
    responses=error_responses(400, 413, 415, 422, meanings={
        400: "A malformed multipart body",
        413: "The file is larger than FILES_MAX_BYTES",
        415: "A media type FILES_ALLOWED_TYPES leaves out, or content that is not what its type says",
        422: "Not a multipart body with the file in the field `file`",
    }),
    openapi_extra=UPLOAD_BODY,
)
async def upload_file(
    request: Request, caller: CallerDep, session: SessionDep, settings: SettingsDep, storage: StorageDep,
    audit: AuditDep,
) -> FileRead:
    """Upload a file (multipart field `file`) for message attachments and request files; the
    answer's `id` is what they name."""
    upload = await receive(
        request.headers.get("content-type", ""), request.headers.get("content-length"), request.stream(),
        max_bytes=settings.files_max_bytes, policy=TypePolicy(settings.files_allowed_types),
    )
    try:
        row = await service.create(session, caller=caller, storage=storage, upload=upload)
    finally:
        upload.close()
    read = service.read(row)
    audit.record(session, action="file.create", resource_type="file", resource_id=row.id,
                 after=read.model_dump(mode="json", include={"name", "content_type", "size", "sha256"}))
    return read


@router.get("", response_model=FilePage)
async def list_files(
    caller: CallerDep, session: SessionDep,
    limit: Annotated[int, Query(ge=1, le=500)] = 100, offset: Annotated[int, Query(ge=0, le=10**9)] = 0,
) -> FilePage:
    """The organisation's files, the newest first."""
    rows, total = await service.list_(session, org_id=caller.org_id, limit=limit, offset=offset)
    return FilePage(items=[service.read(row) for row in rows], total=total)


@router.get("/{file_id}", response_model=FileRead, responses=error_responses(404))
async def get_file(file_id: FileId, caller: CallerDep, session: SessionDep) -> FileRead:
    return service.read(await service.get(session, org_id=caller.org_id, file_id=file_id))


async def _download(row: StoredFile, storage: FileStorage) -> StreamingResponse:
    chunks = storage.chunks(row.storage_key)
    first = await anext(chunks, b"")  # bytes gone from the storage: 404 before any header is sent

    async def body() -> AsyncIterator[bytes]:
        yield first
        async for chunk in chunks:
            yield chunk

    headers = {**DOWNLOAD_HEADERS, "Content-Disposition": attachment_disposition(row.name),
               "Content-Length": str(row.size)}
    return StreamingResponse(body(), media_type=row.content_type, headers=headers)


@router.get("/{file_id}/content", responses={**BINARY, **error_responses(404)}, response_class=StreamingResponse)
async def download_file(file_id: FileId, caller: CallerDep, session: SessionDep, storage: StorageDep) -> StreamingResponse:
    """The file's bytes, with its media type, as an attachment."""
    return await _download(await service.get(session, org_id=caller.org_id, file_id=file_id), storage)


@router.post("/{file_id}/url", response_model=SignedUrl, responses=error_responses(404))
async def file_link(
    file_id: FileId, request: Request, caller: CallerDep, session: SessionDep, settings: SettingsDep,
    storage: StorageDep, signer: SignerDep,
    expires_in: Annotated[int, Query(ge=1, le=MAX_LINK_SECONDS, description="Seconds the link works")] = 3600,
) -> SignedUrl:
    """A link that downloads the file without credentials until `expires_at` (to hand to a
    browser or another service): S3's presigned URL, or this server's signed route."""
    row = await service.get(session, org_id=caller.org_id, file_id=file_id)
    url, expires_at = service.signed_url(
        row, storage=storage, signer=signer, expires_in=expires_in, base_url=settings.public_base_url or str(request.base_url)
    )
    return SignedUrl(url=url, expires_at=expires_at)


@router.get(
    "/{file_id}/signed", responses={**BINARY, **error_responses(403, 404)}, response_class=StreamingResponse,
    openapi_extra=PUBLIC,
)
async def signed_download(
    file_id: FileId, session: SessionDep, storage: StorageDep, signer: SignerDep,
    expires: Annotated[int, Query(ge=0, le=2**62, description="When the link stops working (unix time)")],
    signature: Annotated[str, Query(max_length=128, description="The link's HMAC")],
) -> StreamingResponse:
    """The file's bytes through a link `POST .../url` made: no credentials; 403 for a
    signature that is not the link's or a link that has expired."""
    signer.check(file_id, expires, signature)
    return await _download(await service.get(session, org_id=None, file_id=file_id), storage)


IN_USE = {409: "`file_in_use`: steps, requests or templates of a bot's draft name it (named in `steps`, "
                "`requests`, `templates`)"}


@router.delete("/{file_id}", status_code=status.HTTP_204_NO_CONTENT, responses=error_responses(404, 409, meanings=IN_USE))
async def delete_file(
    file_id: FileId, caller: CallerDep, session: SessionDep, storage: StorageDep, audit: AuditDep
) -> None:
    """The file and its bytes; 409 `file_in_use` while steps, requests or templates of a bot's
    draft name it (published versions may still name it: they then send nothing of it)."""
    audit.record(session, action="file.delete", resource_type="file", resource_id=file_id)
    await service.delete_(
        session, org_id=caller.org_id, file_id=file_id, storage=storage, uses_of=file_uses.naming
    )
