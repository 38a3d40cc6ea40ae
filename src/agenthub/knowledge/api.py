"""Knowledge-base routes: thin; the logic is in :mod:`agenthub.knowledge.service`. A
knowledge base is its organisation's: any member or API key of it may use it; another
organisation's is 404."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Path, Request, status
from starlette.datastructures import UploadFile
from starlette.requests import HTTPConnection

from agenthub.audit.deps import AuditDep
from agenthub.config import mask_url
from agenthub.deps import CallerDep, SessionDep, SettingsDep
from agenthub.errors import InvalidInput
from agenthub.json_input import StrictJSONRoute
from agenthub.knowledge import service
from agenthub.knowledge.parsing import DocumentTooLarge
from agenthub.knowledge.processor import DocumentProcessor
from agenthub.knowledge.schemas import DocumentRead, KnowledgeBaseCreate, KnowledgeBaseRead
from agenthub.knowledge.vectors import VectorIndex
from agenthub.ops.openapi import error_responses
from agenthub.outbound.guard import OutboundGuard

PREFIX = "/api/v1/knowledge-bases"
router = APIRouter(prefix=PREFIX, tags=["knowledge"], route_class=StrictJSONRoute)
uploads = APIRouter(prefix=PREFIX, tags=["knowledge"])
"""The upload route: a multipart body, not JSON."""
KbId = Annotated[str, Path(max_length=64, description="The knowledge base's id")]
DocumentId = Annotated[str, Path(max_length=64, description="The document's id")]
MULTIPART_SLACK = 64 * 1024
"""Bytes of a multipart body around the file itself (boundaries, headers)."""


async def _index(connection: HTTPConnection) -> VectorIndex:
    index: VectorIndex = connection.app.state.knowledge_index
    return index


async def _guard(connection: HTTPConnection) -> OutboundGuard:
    guard: OutboundGuard = connection.app.state.outbound_guard
    return guard


IndexDep = Annotated[VectorIndex, Depends(_index)]
GuardDep = Annotated[OutboundGuard, Depends(_guard)]


@router.post("", status_code=status.HTTP_201_CREATED, response_model=KnowledgeBaseRead)
async def create_knowledge_base(
    data: KnowledgeBaseCreate, caller: CallerDep, session: SessionDep, settings: SettingsDep, guard: GuardDep,
    audit: AuditDep,
) -> KnowledgeBaseRead:
    """A knowledge base agents can search (`knowledge_base_ids` of their settings). Its
    documents are embedded with `embedding_model` (default: EMBEDDING_MODEL) at
    `embedding_base_url` (default: OPENAI_BASE_URL or OpenAI's API); a loopback or private
    address only when an owner or admin sets it, a link-local or metadata one never."""
    kb = await service.create(session, caller=caller, data=data, settings=settings, guard=guard)
    read = (await service.read(session, [kb]))[0]
    shown = read.model_dump(mode="json")
    if read.embedding_base_url:
        shown["embedding_base_url"] = mask_url(read.embedding_base_url)
    audit.record(session, action="knowledge_base.create", resource_type="knowledge_base", resource_id=kb.id,
                 after=shown)
    return read


@router.get("", response_model=list[KnowledgeBaseRead])
async def list_knowledge_bases(caller: CallerDep, session: SessionDep) -> list[KnowledgeBaseRead]:
    """The organisation's knowledge bases, the oldest first."""
    return await service.read(session, await service.list_(session, org_id=caller.org_id))


@router.get("/{kb_id}", response_model=KnowledgeBaseRead, responses=error_responses(404))
async def get_knowledge_base(kb_id: KbId, caller: CallerDep, session: SessionDep) -> KnowledgeBaseRead:
    kb = await service.get(session, org_id=caller.org_id, kb_id=kb_id)
    return (await service.read(session, [kb]))[0]


@router.delete("/{kb_id}", status_code=status.HTTP_204_NO_CONTENT, responses=error_responses(404))
async def delete_knowledge_base(
    kb_id: KbId, caller: CallerDep, session: SessionDep, index: IndexDep, audit: AuditDep
) -> None:
    """The knowledge base with its documents, their chunks and vectors."""
    await service.delete_(session, org_id=caller.org_id, kb_id=kb_id, index=index)
    audit.record(session, action="knowledge_base.delete", resource_type="knowledge_base", resource_id=kb_id)


UPLOAD_BODY = {
    "requestBody": {
        "required": True,
        "content": {"multipart/form-data": {"schema": {
            "type": "object", "required": ["file"],
            "properties": {"file": {"type": "string", "format": "binary",
                                    "description": "A .txt, .md, .html or .pdf file"}},
        }}},
    }
}


@uploads.post(
    "/{kb_id}/documents", status_code=status.HTTP_201_CREATED, response_model=DocumentRead,
    responses=error_responses(400, 404, 413, 415, 422, meanings={
        400: "A malformed multipart body",
        413: "The file is larger than KNOWLEDGE_MAX_UPLOAD_MB",
        415: "Not a .txt, .md, .html or .pdf file",
        422: "No `file` field, or an empty file",
    }),
    openapi_extra=UPLOAD_BODY,
)
async def upload_document(
    kb_id: KbId, request: Request, caller: CallerDep, session: SessionDep, settings: SettingsDep, audit: AuditDep
) -> DocumentRead:
    """Add a document (multipart field `file`): it is `pending` at once, then parsed,
    chunked, embedded and indexed in the background (`processing`, then `ready` or
    `failed`); follow it with `GET .../documents`."""
    kb = await service.get(session, org_id=caller.org_id, kb_id=kb_id)
    limit = settings.knowledge_max_upload_mb * 1024 * 1024
    declared = request.headers.get("content-length")
    if declared and declared.isdigit() and int(declared) > limit + MULTIPART_SLACK:
        raise DocumentTooLarge(f"the file is larger than {settings.knowledge_max_upload_mb} MB")
    # A malformed multipart body is Starlette's 400; a body of another type has no `file`: 422.
    form = await request.form(max_files=1, max_fields=10)
    try:
        upload = form.get("file")
        if not isinstance(upload, UploadFile):
            raise InvalidInput("send the document as the multipart field `file`", field="file")
        data = await upload.read(limit + 1)
        if len(data) > limit:
            raise DocumentTooLarge(f"the file is larger than {settings.knowledge_max_upload_mb} MB")
        document = await service.add_document(
            session, kb=kb, file_name=upload.filename, media_type=upload.content_type, data=data
        )
    finally:
        await form.close()
    audit.record(session, action="knowledge_document.create", resource_type="knowledge_document",
                 resource_id=document.id, after={"knowledge_base_id": kb.id, "file_name": document.file_name,
                                                 "size_bytes": document.size_bytes})
    await session.commit()
    processor: DocumentProcessor | None = getattr(request.app.state, "knowledge_processor", None)
    if processor is not None:
        processor.wake()
    return service.read_document(document)


@router.get("/{kb_id}/documents", response_model=list[DocumentRead], responses=error_responses(404))
async def list_documents(kb_id: KbId, caller: CallerDep, session: SessionDep) -> list[DocumentRead]:
    """The knowledge base's documents with their `status` and `progress`."""
    kb = await service.get(session, org_id=caller.org_id, kb_id=kb_id)
    return [service.read_document(d) for d in await service.documents(session, kb=kb)]


@router.delete(
    "/{kb_id}/documents/{document_id}", status_code=status.HTTP_204_NO_CONTENT, responses=error_responses(404)
)
async def delete_document(
    kb_id: KbId, document_id: DocumentId, caller: CallerDep, session: SessionDep, index: IndexDep, audit: AuditDep
) -> None:
    """The document, its chunks and their vectors: no search finds it again."""
    kb = await service.get(session, org_id=caller.org_id, kb_id=kb_id)
    await service.delete_document(session, kb=kb, document_id=document_id, index=index)
    audit.record(session, action="knowledge_document.delete", resource_type="knowledge_document",
                 resource_id=document_id, after={"knowledge_base_id": kb.id})
