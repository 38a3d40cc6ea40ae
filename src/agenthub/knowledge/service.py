"""Knowledge bases and their documents, scoped by organisation: another organisation's is
not found. Documents are stored ``pending`` here; the processor (``processor.py``) parses,
chunks, embeds and indexes them in the background."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from pathlib import PurePosixPath

from sqlalchemy import delete, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from agenthub.caller import Caller
from agenthub.config import Settings
from agenthub.errors import InvalidInput, NotFound
from agenthub.knowledge.models import KnowledgeBase, KnowledgeChunk, KnowledgeDocument
from agenthub.knowledge.parsing import file_type
from agenthub.knowledge.schemas import DocumentRead, KnowledgeBaseCreate, KnowledgeBaseRead
from agenthub.knowledge.vectors import VectorIndex
from agenthub.outbound.guard import OutboundGuard, OutboundRefused


def new_id(prefix: str) -> str:
    return f"{prefix}_{uuid.uuid4().hex}"


async def create(
    session: AsyncSession, *, caller: Caller, data: KnowledgeBaseCreate, settings: Settings, guard: OutboundGuard
) -> KnowledgeBase:
    """A new knowledge base. An ``embedding_base_url`` is checked with the outbound guard:
    a loopback or private address only when an owner or admin sets it."""
    trusted = caller.is_user and caller.at_least("admin")
    if data.embedding_base_url:
        try:
            await guard.check(data.embedding_base_url, trusted=trusted)
        except OutboundRefused as refused:
            raise InvalidInput(refused.message, field="embedding_base_url") from None
    kb = KnowledgeBase(
        id=new_id("kb"), org_id=caller.org_id, name=data.name,
        embedding_model=data.embedding_model or settings.embedding_model,
        embedding_base_url=data.embedding_base_url.rstrip("/") if data.embedding_base_url else None,
        base_url_trusted=bool(data.embedding_base_url) and trusted,
        embedding_dimensions=data.embedding_dimensions,
    )
    session.add(kb)
    await session.flush()
    return kb


async def list_(session: AsyncSession, *, org_id: str) -> list[KnowledgeBase]:
    found = await session.scalars(
        select(KnowledgeBase).where(KnowledgeBase.org_id == org_id).order_by(KnowledgeBase.created_at, KnowledgeBase.id)
    )
    return list(found)


async def get(session: AsyncSession, *, org_id: str, kb_id: str) -> KnowledgeBase:
    kb = await session.get(KnowledgeBase, kb_id)
    if kb is None or kb.org_id != org_id:
        raise NotFound(f"knowledge base {kb_id!r} not found")
    return kb


async def of_agent(session: AsyncSession, *, org_id: str, kb_ids: Sequence[str]) -> list[KnowledgeBase]:
    """The knowledge bases of ``kb_ids`` that exist in ``org_id`` (others are left out)."""
    if not kb_ids:
        return []
    found = await session.scalars(
        select(KnowledgeBase).where(KnowledgeBase.org_id == org_id, KnowledgeBase.id.in_(list(kb_ids)))
    )
    return list(found)


async def read(session: AsyncSession, kbs: Sequence[KnowledgeBase]) -> list[KnowledgeBaseRead]:
    counts: dict[str, int] = {}
    if kbs:
        rows = await session.execute(
            select(KnowledgeDocument.knowledge_base_id, func.count())
            .where(KnowledgeDocument.knowledge_base_id.in_([kb.id for kb in kbs]))
            .group_by(KnowledgeDocument.knowledge_base_id)
        )
        counts = {kb_id: int(count) for kb_id, count in rows.all()}
    return [KnowledgeBaseRead.model_validate(kb).model_copy(update={"documents": counts.get(kb.id, 0)}) for kb in kbs]


async def delete_(session: AsyncSession, *, org_id: str, kb_id: str, index: VectorIndex) -> None:
    """The knowledge base, its documents and chunks, and its vectors."""
    kb = await get(session, org_id=org_id, kb_id=kb_id)
    await session.execute(delete(KnowledgeChunk).where(KnowledgeChunk.knowledge_base_id == kb.id))
    await session.execute(delete(KnowledgeDocument).where(KnowledgeDocument.knowledge_base_id == kb.id))
    await session.delete(kb)
    await session.flush()
    await index.drop(kb.id)


def clean_file_name(name: str | None) -> str:
    base = PurePosixPath((name or "").replace("\\", "/")).name.strip()
    base = "".join(ch for ch in base if ch.isprintable())
    return base[:255] or "document"


async def add_document(
    session: AsyncSession, *, kb: KnowledgeBase, file_name: str | None, media_type: str | None, data: bytes
) -> KnowledgeDocument:
    """A document to process (``pending``); its type by its name or media type (415 else)."""
    name = clean_file_name(file_name)
    kind = file_type(name, media_type)
    if not data:
        raise InvalidInput("the file is empty", field="file")
    document = KnowledgeDocument(
        id=new_id("doc"), knowledge_base_id=kb.id, org_id=kb.org_id, file_name=name, file_type=kind,
        size_bytes=len(data), content=data, status="pending", chunks_done=0, attempts=0,
    )
    session.add(document)
    await session.flush()
    return document


async def documents(session: AsyncSession, *, kb: KnowledgeBase) -> list[KnowledgeDocument]:
    found = await session.scalars(
        select(KnowledgeDocument).where(KnowledgeDocument.knowledge_base_id == kb.id)
        .order_by(KnowledgeDocument.created_at, KnowledgeDocument.id)
    )
    return list(found)


def read_document(document: KnowledgeDocument) -> DocumentRead:
    total = document.chunks_total
    if document.status == "ready":
        progress = 1.0
    elif total:
        progress = round(min(document.chunks_done / total, 1.0), 4)
    else:
        progress = 0.0
    return DocumentRead.model_validate(document).model_copy(update={"progress": progress})


async def delete_document(session: AsyncSession, *, kb: KnowledgeBase, document_id: str, index: VectorIndex) -> None:
    """The document, its chunks (and so their keyword index entries) and its vectors."""
    document = await session.get(KnowledgeDocument, document_id)
    if document is None or document.knowledge_base_id != kb.id:
        raise NotFound(f"document {document_id!r} not found")
    chunk_ids = list(await session.scalars(select(KnowledgeChunk.id).where(KnowledgeChunk.document_id == document.id)))
    await session.execute(delete(KnowledgeChunk).where(KnowledgeChunk.document_id == document.id))
    await session.delete(document)
    await session.flush()
    await index.remove(kb.id, chunk_ids)
