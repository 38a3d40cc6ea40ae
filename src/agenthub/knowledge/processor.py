"""The document processor: parses, chunks, embeds (in batches) and indexes pending
documents in the background, never in the request that uploaded them.

It takes a document under a lease (``lease_owner``, ``lease_until``, set by a
compare-and-set on the row), so several replicas never process the same one, and renews the
lease with every batch. A document whose lease ran out (its replica died, the server was
restarted) is taken again and resumes at ``chunks_done``: the chunks are the same every time,
the ones stored already are kept, any beyond are removed first. When embedding fails for a
reason that may pass (the endpoint unreachable, overloaded, limiting the rate), the document
waits ``pending`` (``RETRY_BASE`` seconds, doubled each time) and is tried again, up to
``MAX_ATTEMPTS`` times, resuming where it was; any other failure makes it ``failed`` at once.

The app starts it in its lifespan (``setup``, ``run``, ``cleanup``); an upload wakes it
(:meth:`DocumentProcessor.wake`), else it looks every ``poll_interval`` seconds. Tests call
:meth:`DocumentProcessor.run_once`.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import uuid
from datetime import timedelta

from sqlalchemy import and_, delete, or_, select, update
from sqlalchemy.sql.elements import ColumnElement

from agenthub.db.base import utcnow
from agenthub.db.engine import SessionFactory, session_scope
from agenthub.errors import AgentHubError, is_unavailable
from agenthub.knowledge.embedding import KnowledgeEmbedders
from agenthub.knowledge.models import KnowledgeBase, KnowledgeChunk, KnowledgeDocument
from agenthub.knowledge.parsing import UnreadableDocument, extract_text, split_text
from agenthub.knowledge.vectors import VectorIndex

log = logging.getLogger(__name__)

BATCH = 64
"""Chunks embedded and stored together."""
LEASE_SECONDS = 120.0
POLL_INTERVAL = 5.0
MAX_ATTEMPTS = 5
"""Processings of one document that may fail for a reason that may pass before it fails."""
RETRY_BASE = 10.0
"""Seconds before the first retry; doubled each time."""


def _passing(error: BaseException) -> bool:
    """A failure that may pass: the endpoint unreachable, overloaded or limiting the rate."""
    import openai

    if isinstance(error, openai.APIConnectionError | openai.RateLimitError | openai.InternalServerError):
        return True
    status = getattr(error, "status_code", None)
    return isinstance(status, int) and (status >= 500 or status == 429)


class _Gone(Exception):
    """The document was deleted, or taken over by another replica, while processed here."""


class DocumentProcessor:
    name = "knowledge-documents"

    def __init__(
        self, *, sessions: SessionFactory, index: VectorIndex, embedders: KnowledgeEmbedders,
        lease_seconds: float = LEASE_SECONDS, poll_interval: float = POLL_INTERVAL, batch: int = BATCH,
    ) -> None:
        self._sessions = sessions
        self._index = index
        self._embedders = embedders
        self._lease = timedelta(seconds=lease_seconds)
        self._poll = poll_interval
        self._batch = batch
        self.owner = f"proc_{uuid.uuid4().hex[:16]}"
        self._wake = asyncio.Event()

    def wake(self) -> None:
        """Look for pending documents now (an upload was committed)."""
        self._wake.set()

    async def setup(self) -> None:
        return None

    async def cleanup(self) -> None:
        await self._embedders.aclose()
        await self._index.close()

    async def run(self) -> None:
        while True:
            try:
                await self.run_once()
            except Exception as error:  # noqa: BLE001 - the database away: try again on the next look
                if is_unavailable(error):
                    log.warning("processing knowledge documents waits: the database is unavailable")
                else:
                    log.exception("processing knowledge documents failed")
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), self._poll)
            self._wake.clear()

    async def run_once(self) -> int:
        """Process every document there is to process now; how many were taken."""
        taken = 0
        while (document_id := await self.claim()) is not None:
            taken += 1
            await self.process(document_id)
        return taken

    def _available(self) -> ColumnElement[bool]:
        now = utcnow()
        return or_(
            and_(KnowledgeDocument.status == "pending",
                 or_(KnowledgeDocument.lease_until.is_(None), KnowledgeDocument.lease_until < now)),
            and_(KnowledgeDocument.status == "processing", KnowledgeDocument.lease_until < now),
        )

    async def claim(self) -> str | None:
        """A document to process, leased to this processor; None when there is none."""
        for _ in range(5):  # another replica may take the one seen first
            async with session_scope(self._sessions) as session:
                document_id = await session.scalar(
                    select(KnowledgeDocument.id).where(self._available())
                    .order_by(KnowledgeDocument.created_at, KnowledgeDocument.id).limit(1)
                )
                if document_id is None:
                    return None
                taken = await session.execute(
                    update(KnowledgeDocument)
                    .where(KnowledgeDocument.id == document_id, self._available())
                    .values(status="processing", lease_owner=self.owner, lease_until=utcnow() + self._lease)
                    .execution_options(synchronize_session=False)
                )
                if taken.rowcount == 1:  # type: ignore[attr-defined]
                    return str(document_id)
        return None

    async def process(self, document_id: str) -> None:
        """Take a leased document to ``ready`` (or ``failed``, saying why)."""
        try:
            await self._process(document_id)
        except _Gone:
            log.info("knowledge document gone while processed", extra={"document_id": document_id})
        except (UnreadableDocument, AgentHubError) as error:
            await self._finish(document_id, "failed", error.message)
        except Exception as error:  # noqa: BLE001 - an embedding endpoint's failure: said, without details
            status = getattr(error, "status_code", None)
            reason = f"embedding failed: {type(error).__name__}" + (f" (HTTP {status})" if status else "")
            log.warning("knowledge document failed: %s", reason, extra={"document_id": document_id})
            if not (_passing(error) and await self._retry_later(document_id, reason)):
                await self._finish(document_id, "failed", reason)

    async def _retry_later(self, document_id: str, reason: str) -> bool:
        """Have the document wait ``pending`` for another try; False when it had its last."""
        async with session_scope(self._sessions) as session:
            document = await session.get(KnowledgeDocument, document_id)
            if document is None or document.lease_owner != self.owner or document.attempts + 1 >= MAX_ATTEMPTS:
                return False
            wait = timedelta(seconds=RETRY_BASE * 2 ** document.attempts)
            document.attempts += 1
            document.status = "pending"
            document.error = f"{reason}; trying again at {(utcnow() + wait).strftime('%H:%M:%S')} UTC"
            document.lease_owner = None
            document.lease_until = utcnow() + wait
        return True

    async def _process(self, document_id: str) -> None:
        async with session_scope(self._sessions) as session:
            document = await session.get(KnowledgeDocument, document_id)
            if document is None or document.lease_owner != self.owner:
                raise _Gone()
            kb = await session.get(KnowledgeBase, document.knowledge_base_id)
            if kb is None:
                raise _Gone()
            session.expunge(kb)
            data, kind, done = document.content or b"", document.file_type, document.chunks_done
        text = await asyncio.to_thread(extract_text, data, kind)
        chunks = await asyncio.to_thread(split_text, text)
        if not chunks:
            raise UnreadableDocument("no text was found in the document")
        async with session_scope(self._sessions) as session:
            leftover = list(await session.scalars(
                select(KnowledgeChunk.id).where(KnowledgeChunk.document_id == document_id,
                                                KnowledgeChunk.position >= done)
            ))
            await session.execute(delete(KnowledgeChunk).where(KnowledgeChunk.id.in_(leftover)))
            await self._renew(session, document_id, chunks_total=len(chunks), chunks_done=min(done, len(chunks)))
        await self._index.remove(kb.id, leftover)
        for start in range(done, len(chunks), self._batch):
            piece = chunks[start:start + self._batch]
            vectors = await self._embedders.embed(kb, piece)
            if kb.embedding_dimensions is None and vectors:
                kb.embedding_dimensions = len(vectors[0])
                async with session_scope(self._sessions) as session:
                    await session.execute(
                        update(KnowledgeBase).where(KnowledgeBase.id == kb.id, KnowledgeBase.embedding_dimensions.is_(None))
                        .values(embedding_dimensions=len(vectors[0]))
                    )
            async with session_scope(self._sessions) as session:
                await self._renew(session, document_id, chunks_done=start + len(piece))
                rows = [
                    KnowledgeChunk(knowledge_base_id=kb.id, document_id=document_id, position=start + i, text=chunk)
                    for i, chunk in enumerate(piece)
                ]
                session.add_all(rows)
                await session.flush()
                await self._index.add(kb.id, document_id, [row.id for row in rows], vectors)
        await self._finish(document_id, "ready", None)

    async def _renew(self, session, document_id: str, **values: object) -> None:  # type: ignore[no-untyped-def]
        renewed = await session.execute(
            update(KnowledgeDocument)
            .where(KnowledgeDocument.id == document_id, KnowledgeDocument.lease_owner == self.owner)
            .values(lease_until=utcnow() + self._lease, **values)
            .execution_options(synchronize_session=False)
        )
        if renewed.rowcount != 1:
            raise _Gone()

    async def _finish(self, document_id: str, status: str, error: str | None) -> None:
        values: dict[str, object] = {"status": status, "error": error, "lease_owner": None, "lease_until": None}
        if status == "failed":
            values["attempts"] = KnowledgeDocument.attempts + 1
        if status == "ready":
            values["content"] = None
        async with session_scope(self._sessions) as session:
            await session.execute(
                update(KnowledgeDocument)
                .where(KnowledgeDocument.id == document_id, KnowledgeDocument.lease_owner == self.owner)
                .values(**values).execution_options(synchronize_session=False)
            )
