"""Hybrid retrieval on SQLite and PostgreSQL, with the embedded index and Qdrant (local mode):
documents processed by the processor, found by their words and by their meaning, in the
knowledge bases asked only; a deleted document is found no more; a processing cut off resumes."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import pytest
from sqlalchemy import select, update

from agenthub.config import Settings
from agenthub.db.base import utcnow
from agenthub.db.engine import SessionFactory, session_scope
from agenthub.knowledge import service
from agenthub.knowledge.embedding import KnowledgeEmbedders
from agenthub.knowledge.models import KnowledgeBase, KnowledgeChunk, KnowledgeDocument
from agenthub.knowledge.processor import DocumentProcessor
from agenthub.knowledge.retrieval import Passage, fuse, hybrid_search
from agenthub.knowledge.vectors import VectorIndex
from agenthub.outbound.guard import OutboundGuard

SETTINGS = Settings(_env_file=None, embedding_model="fake")
EMBEDDERS = KnowledgeEmbedders(SETTINGS, OutboundGuard.from_settings(SETTINGS))
DOCUMENTS = {
    "holidays.txt": "Every employee has twenty five days of paid holiday a year. Unused holiday days expire in March.",
    "parking.md": "# Parking\n\nVisitors park their cars on level two of the garage. Bicycles go in the courtyard.",
    "canteen.html": "<p>The canteen serves soup and salads from noon until two.</p>",
}


class DyingEmbedders(KnowledgeEmbedders):
    """Embeds as the fake model does, until its ``die_at``-th call, where the process "dies"."""

    def __init__(self, settings: Settings, guard: OutboundGuard, die_at: int = 3) -> None:
        super().__init__(settings, guard)
        self.calls = 0
        self.texts = 0
        self.die_at = die_at

    async def embed(self, kb: KnowledgeBase, texts: list[str]) -> list[list[float]]:
        self.calls += 1
        if self.calls == self.die_at:
            raise asyncio.CancelledError()
        self.texts += len(texts)
        return await super().embed(kb, texts)


def processor(sessions: SessionFactory, index: VectorIndex, **options: object) -> DocumentProcessor:
    return DocumentProcessor(sessions=sessions, index=index, embedders=EMBEDDERS, **options)  # type: ignore[arg-type]


async def _knowledge_base(sessions: SessionFactory, org: str = "org-a", docs: dict[str, str] = DOCUMENTS) -> KnowledgeBase:
    async with session_scope(sessions) as session:
        kb = KnowledgeBase(id=service.new_id("kb"), org_id=org, name="Handbook", embedding_model="fake")
        session.add(kb)
        await session.flush()
        for name, text in docs.items():
            await service.add_document(session, kb=kb, file_name=name, media_type=None, data=text.encode())
        session.expunge(kb)
    return kb


async def _search(sessions: SessionFactory, index: VectorIndex, kbs: list[KnowledgeBase], query: str,
                  top_k: int = 3) -> list[Passage]:
    async def embed_query(kb: KnowledgeBase, text: str) -> list[float]:
        return (await EMBEDDERS.embed(kb, [text]))[0]

    async with session_scope(sessions) as session:
        return await hybrid_search(session, index, kbs, query, top_k=top_k, embed_query=embed_query)


async def test_hybrid_search_finds_documents_by_words_and_meaning(sessions: SessionFactory, index: VectorIndex) -> None:
    kb = await _knowledge_base(sessions)
    other = await _knowledge_base(sessions, "org-b", {"secret.txt": "Visitors of org B park on the roof."})
    assert await processor(sessions, index).run_once() == 4

    found = await _search(sessions, index, [kb], "where do visitors park?")
    assert found[0].file_name == "parking.md", found
    assert all(p.knowledge_base_id == kb.id for p in found)  # never another knowledge base's
    assert found[0].score > 0 and "level two" in found[0].text

    # Words only the keyword index knows well, and a plural the fake embedder folds (holidays/holiday).
    assert (await _search(sessions, index, [kb], "holidays expire"))[0].file_name == "holidays.txt"
    assert (await _search(sessions, index, [kb], "soup"))[0].file_name == "canteen.html"
    assert (await _search(sessions, index, [other], "park"))[0].file_name == "secret.txt"
    assert await _search(sessions, index, [kb], "   ") == []
    # Query syntax of FTS5 or tsquery is only words here.
    assert isinstance(await _search(sessions, index, [kb], 'park" OR NEAR( * ) & | !'), list)


async def test_a_deleted_document_is_found_no_more(sessions: SessionFactory, index: VectorIndex) -> None:
    kb = await _knowledge_base(sessions)
    await processor(sessions, index).run_once()
    parking = next(p for p in await _search(sessions, index, [kb], "visitors park") if p.file_name == "parking.md")

    async with session_scope(sessions) as session:
        await service.delete_document(session, kb=kb, document_id=parking.document_id, index=index)
    assert all(p.file_name != "parking.md" for p in await _search(sessions, index, [kb], "visitors park cars garage"))
    assert (await index.search(kb.id, (await EMBEDDERS.embed(kb, ["visitors park"]))[0], 10))
    assert parking.chunk_id not in [i for i, _ in await index.search(
        kb.id, (await EMBEDDERS.embed(kb, ["Visitors park their cars on level two"]))[0], 10
    )]


async def test_documents_are_processed_once_and_a_cut_off_one_resumes(
    sessions: SessionFactory, index: VectorIndex
) -> None:
    text = "\n\n".join(f"Paragraph {i} tells about topic number {i}. " * 8 for i in range(40))
    kb = await _knowledge_base(sessions, docs={"long.txt": text})
    first = DocumentProcessor(sessions=sessions, index=index, embedders=DyingEmbedders(SETTINGS, EMBEDDERS.guard), batch=4)
    second = processor(sessions, index, batch=4)
    document_id = await first.claim()
    assert document_id is not None
    assert await second.claim() is None  # leased to the first

    # The first dies during its third batch: its lease runs out, the second takes over.
    with pytest.raises(asyncio.CancelledError):
        await first.process(document_id)
    async with session_scope(sessions) as session:
        document = await session.get(KnowledgeDocument, document_id)
        assert document is not None and (document.status, document.chunks_done) == ("processing", 8)
        await session.execute(update(KnowledgeDocument).values(lease_until=utcnow() - timedelta(seconds=1)))
    resumed = DyingEmbedders(SETTINGS, EMBEDDERS.guard, die_at=99)
    second = DocumentProcessor(sessions=sessions, index=index, embedders=resumed, batch=4)
    assert await second.run_once() == 1
    async with session_scope(sessions) as session:
        document = await session.get(KnowledgeDocument, document_id)
        assert document is not None and document.status == "ready", document.error
        positions = list(await session.scalars(select(KnowledgeChunk.position).order_by(KnowledgeChunk.position)))
    assert document.chunks_total == document.chunks_done == len(positions)
    assert positions == list(range(len(positions)))  # each chunk once
    assert resumed.texts == len(positions) - 8  # the first 8 were not embedded again
    await first.process(document_id)  # the first wakes up: the document is not its own any more
    async with session_scope(sessions) as session:
        assert len(list(await session.scalars(select(KnowledgeChunk.id)))) == len(positions)
    assert (await _search(sessions, index, [kb], "topic number 17"))[0].file_name == "long.txt"


def test_reciprocal_rank_fusion_favours_what_both_lists_rank_high() -> None:
    fused = fuse([[1, 2, 3], [3, 1, 4]])
    assert [i for i, _ in fused] == [1, 3, 2, 4]


async def test_words_in_most_chunks_are_left_out_of_keyword_search(sessions: SessionFactory) -> None:
    from sqlalchemy import text

    from agenthub.knowledge.retrieval import _selective, keyword_search

    kb = await _knowledge_base(sessions, docs={})
    async with session_scope(sessions) as session:
        document = await service.add_document(session, kb=kb, file_name="many.txt", media_type=None, data=b"x")
        session.add_all([
            KnowledgeChunk(knowledge_base_id=kb.id, document_id=document.id, position=i,
                           text=f"the weekly report number {i}" if i != 321 else "the falcon report")
            for i in range(700)
        ])
    async with session_scope(sessions) as session:
        if session.get_bind().dialect.name == "postgresql":
            await session.execute(text("ANALYZE knowledge_chunks"))
    async with session_scope(sessions) as session:
        dialect = session.get_bind().dialect.name
        assert await _selective(session, dialect, ["the", "falcon"]) == ["falcon"]
        assert await _selective(session, dialect, ["the", "report"]) in (["the"], ["report"])  # the rarest kept
        found = await keyword_search(session, [kb.id], "the falcon", 5)
        falcon = await session.scalar(select(KnowledgeChunk.id).where(KnowledgeChunk.position == 321))
        assert found == [falcon]


class FlakyEmbedders(KnowledgeEmbedders):
    """Its endpoint unreachable for the first ``failures`` calls."""

    def __init__(self, failures: int) -> None:
        super().__init__(SETTINGS, EMBEDDERS.guard)
        self.failures = failures

    async def embed(self, kb: KnowledgeBase, texts: list[str]) -> list[list[float]]:
        import httpx
        import openai

        if self.failures:
            self.failures -= 1
            raise openai.APIConnectionError(request=httpx.Request("POST", "http://127.0.0.1:9/v1/embeddings"))
        return await super().embed(kb, texts)


async def _make_due(sessions: SessionFactory) -> None:
    async with session_scope(sessions) as session:
        await session.execute(update(KnowledgeDocument).values(lease_until=utcnow() - timedelta(seconds=1)))


async def test_an_unreachable_endpoint_is_tried_again_later_then_fails(
    sessions: SessionFactory, index: VectorIndex
) -> None:
    from agenthub.knowledge.processor import MAX_ATTEMPTS

    await _knowledge_base(sessions, docs={"a.txt": "Alpha beta gamma."})
    flaky = DocumentProcessor(sessions=sessions, index=index, embedders=FlakyEmbedders(failures=1))
    assert await flaky.run_once() == 1
    async with session_scope(sessions) as session:
        (document,) = await session.scalars(select(KnowledgeDocument))
        assert document.status == "pending" and document.attempts == 1
        assert document.error is not None and "APIConnectionError" in document.error and "trying again" in document.error
    assert await flaky.run_once() == 0  # not before its time
    await _make_due(sessions)
    assert await flaky.run_once() == 1
    async with session_scope(sessions) as session:
        (document,) = await session.scalars(select(KnowledgeDocument))
        assert (document.status, document.error) == ("ready", None)

    await _knowledge_base(sessions, docs={"b.txt": "Delta."})
    down = DocumentProcessor(sessions=sessions, index=index, embedders=FlakyEmbedders(failures=99))
    for _ in range(MAX_ATTEMPTS):
        await _make_due(sessions)
        assert await down.run_once() == 1
    async with session_scope(sessions) as session:
        failed = await session.scalar(select(KnowledgeDocument).where(KnowledgeDocument.file_name == "b.txt"))
        assert failed is not None and failed.status == "failed" and failed.attempts == MAX_ATTEMPTS
        assert failed.error == "embedding failed: APIConnectionError"


async def test_an_embedding_endpoint_is_checked_by_the_guard_each_time_it_is_used(
    sessions: SessionFactory, index: VectorIndex
) -> None:
    from tests.support.fake_openai import FakeOpenAI

    with FakeOpenAI() as server:
        async with session_scope(sessions) as session:
            for kb_id, trusted in (("kb_trusted", True), ("kb_member", False)):
                kb = KnowledgeBase(id=kb_id, org_id="org-a", name=kb_id, embedding_model="nomic-embed",
                                   embedding_base_url=server.url, base_url_trusted=trusted)
                session.add(kb)
                await session.flush()
                await service.add_document(session, kb=kb, file_name=f"{kb_id}.txt", media_type=None,
                                           data=b"Falcon bikes are red.")
        await processor(sessions, index).run_once()
        embedded = [r for r in server.requests if r.path.endswith("/embeddings")]

    async with session_scope(sessions) as session:
        documents = {d.knowledge_base_id: d for d in await session.scalars(select(KnowledgeDocument))}
        trusted_kb = await session.get(KnowledgeBase, "kb_trusted")
    assert documents["kb_trusted"].status == "ready"
    assert trusted_kb is not None and trusted_kb.embedding_dimensions == 64  # learnt from the endpoint
    assert [r.body["model"] for r in embedded] == ["nomic-embed"]  # the member's never reached it
    assert documents["kb_member"].status == "failed"
    assert documents["kb_member"].error == "refused: 127.0.0.1 is a loopback address"
