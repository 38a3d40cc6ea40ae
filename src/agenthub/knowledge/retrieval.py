"""Hybrid retrieval: keyword search (the database's full-text index) fused with vector
search (the :class:`~agenthub.knowledge.vectors.VectorIndex`) by reciprocal rank fusion.

Keyword search is SQLite FTS5 (bm25) on the embedded database and PostgreSQL full text
(``tsvector`` with a GIN index, ``ts_rank``) in production; a query's words are matched
with OR, each quoted, so nothing a user types is query syntax.
"""

from __future__ import annotations

import re
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import asdict, dataclass

from sqlalchemy import bindparam, select, text
from sqlalchemy.ext.asyncio import AsyncSession

from agenthub.knowledge.models import KnowledgeBase, KnowledgeChunk, KnowledgeDocument
from agenthub.knowledge.vectors import VectorIndex

RRF_K = 60
"""Reciprocal rank fusion's constant: a chunk scores ``1 / (RRF_K + rank)`` in each list."""
CANDIDATES = 4
"""Each search returns ``CANDIDATES * top_k`` chunks (at least 20) to the fusion."""
MAX_QUERY_WORDS = 32
COMMON_SHARE = 0.05
"""A query word in more than this share of all chunks is left out of keyword search (as a
stop word is; the rarest word of a query is always kept): ranking every chunk holding "the"
costs the most and tells the least. Vector search still sees the whole query."""
COMMON_MIN_CHUNKS = 500
"""... but never in a small knowledge base: a word is common only beyond this many chunks."""
STATS_SECONDS = 300.0
"""How long PostgreSQL's statistics of common words are kept before they are read again."""
_postgres_common: dict[str, tuple[float, dict[str, float]]] = {}
"""PostgreSQL's most common words of the chunks and their share, by database, with when read."""
_WORD = re.compile(r"\w+", re.UNICODE)

QueryEmbedder = Callable[[KnowledgeBase, str], Awaitable[list[float] | None]]
"""The query's vector in a knowledge base's embedding (None: it cannot be embedded now)."""


@dataclass(frozen=True)
class Passage:
    chunk_id: int
    document_id: str
    knowledge_base_id: str
    file_name: str
    text: str
    score: float

    def as_dict(self) -> dict[str, object]:
        return asdict(self)


def query_words(query: str) -> list[str]:
    words: list[str] = []
    for word in _WORD.findall(query.lower()):
        if word not in words:
            words.append(word)
    return words[:MAX_QUERY_WORDS]


async def keyword_search(
    session: AsyncSession, knowledge_base_ids: Sequence[str], query: str, limit: int
) -> list[int]:
    """Chunk ids matching words of ``query``, the best first."""
    words = query_words(query)
    if not words or not knowledge_base_ids:
        return []
    dialect = session.get_bind().dialect.name
    words = await _selective(session, dialect, words)
    if dialect == "sqlite":
        match = " OR ".join(f'"{word}"' for word in words)
        statement = text(
            "SELECT c.id FROM knowledge_chunks_fts f JOIN knowledge_chunks c ON c.id = f.rowid "
            "WHERE knowledge_chunks_fts MATCH :match AND c.knowledge_base_id IN :kbs "
            "ORDER BY bm25(knowledge_chunks_fts) LIMIT :limit"
        ).bindparams(bindparam("kbs", expanding=True))
        rows = await session.execute(statement, {"match": match, "kbs": list(knowledge_base_ids), "limit": limit})
    elif dialect == "postgresql":
        statement = text(
            "SELECT id FROM knowledge_chunks, to_tsquery('simple', :match) AS q "
            "WHERE tsv @@ q AND knowledge_base_id = ANY(:kbs) "
            "ORDER BY ts_rank(tsv, q) DESC LIMIT :limit"
        )
        match = " | ".join(words)
        rows = await session.execute(statement, {"match": match, "kbs": list(knowledge_base_ids), "limit": limit})
    else:
        return []
    return [int(row[0]) for row in rows]


async def _selective(session: AsyncSession, dialect: str, words: list[str]) -> list[str]:
    """``words`` without those in most chunks (the rarest one is kept whatever its share)."""
    if len(words) < 2:
        return words
    if dialect == "sqlite":
        total = await session.scalar(text("SELECT max(id) FROM knowledge_chunks")) or 0
        if total < COMMON_MIN_CHUNKS:
            return words
        statement = text("SELECT term, doc FROM knowledge_chunks_fts_terms WHERE term IN :words").bindparams(
            bindparam("words", expanding=True)
        )
        counts = {str(term): int(doc) / total for term, doc in await session.execute(statement, {"words": words})}
    elif dialect == "postgresql":
        counts = await _postgres_shares(session)
    else:
        return words
    shares = {word: counts.get(word, 0.0) for word in words}
    kept = [word for word in words if shares[word] <= COMMON_SHARE]
    return kept or [min(words, key=lambda word: shares[word])]


async def _postgres_shares(session: AsyncSession) -> dict[str, float]:
    """The planner's statistics of the ``tsvector`` column (kept by ANALYZE): its most common
    words and the share of chunks holding each."""
    bind = session.get_bind()
    key = str(bind.engine.url)
    now = time.monotonic()
    held = _postgres_common.get(key)
    if held is not None and now - held[0] < STATS_SECONDS:
        return held[1]
    row = (await session.execute(text(
        "SELECT most_common_elems::text::text[], most_common_elem_freqs, "
        "(SELECT reltuples FROM pg_class WHERE relname = 'knowledge_chunks') "
        "FROM pg_stats WHERE tablename = 'knowledge_chunks' AND attname = 'tsv'"
    ))).first()
    shares: dict[str, float] = {}
    if row is not None and row[0] and row[1] and (row[2] or 0) >= COMMON_MIN_CHUNKS:
        shares = {str(word): float(share) for word, share in zip(row[0], row[1], strict=False)}
    _postgres_common[key] = (now, shares)
    return shares


def fuse(rankings: Sequence[Sequence[int]], k: int = RRF_K) -> list[tuple[int, float]]:
    """Reciprocal rank fusion of ranked id lists: (id, score), the best first."""
    scores: dict[int, float] = {}
    for ranking in rankings:
        for rank, chunk_id in enumerate(ranking, start=1):
            scores[chunk_id] = scores.get(chunk_id, 0.0) + 1.0 / (k + rank)
    return sorted(scores.items(), key=lambda item: (-item[1], item[0]))


async def hybrid_search(
    session: AsyncSession,
    index: VectorIndex,
    knowledge_bases: Sequence[KnowledgeBase],
    query: str,
    *,
    top_k: int = 5,
    embed_query: QueryEmbedder,
) -> list[Passage]:
    """The ``top_k`` passages of ``knowledge_bases`` best matching ``query``."""
    if not knowledge_bases or not query.strip():
        return []
    limit = max(CANDIDATES * top_k, 20)
    rankings = [await keyword_search(session, [kb.id for kb in knowledge_bases], query, limit)]
    for kb in knowledge_bases:
        vector = await embed_query(kb, query)
        if vector is not None:
            rankings.append([chunk_id for chunk_id, _ in await index.search(kb.id, vector, limit)])
    fused = fuse(rankings)[: top_k * 2]  # a few spare: a vector of a chunk deleted meanwhile finds no row
    if not fused:
        return []
    rows = (await session.execute(
        select(KnowledgeChunk.id, KnowledgeChunk.document_id, KnowledgeChunk.knowledge_base_id, KnowledgeChunk.text,
               KnowledgeDocument.file_name)
        .join(KnowledgeDocument, KnowledgeDocument.id == KnowledgeChunk.document_id)
        .where(KnowledgeChunk.id.in_([chunk_id for chunk_id, _ in fused]))
        .where(KnowledgeChunk.knowledge_base_id.in_([kb.id for kb in knowledge_bases]))
    )).all()
    found = {row.id: row for row in rows}
    passages = [
        Passage(chunk_id=chunk_id, document_id=found[chunk_id].document_id,
                knowledge_base_id=found[chunk_id].knowledge_base_id, file_name=found[chunk_id].file_name,
                text=found[chunk_id].text, score=round(score, 6))
        for chunk_id, score in fused if chunk_id in found
    ]
    return passages[:top_k]
