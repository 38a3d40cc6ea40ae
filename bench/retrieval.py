"""Hybrid retrieval latency over a knowledge base of many chunks.

    python bench/retrieval.py [--chunks 100000] [--queries 300] [--postgres-url postgresql://...]

A synthetic corpus (words drawn from a Zipf distribution over a 20,000-word vocabulary, 80
words a chunk, a dozen of the most frequent words acting as stop words do) is inserted
directly, in bulk, into a migrated database (SQLite in a scratch directory; PostgreSQL in a
scratch database when ``--postgres-url`` is given), its vectors (the offline ``fake``
embedder, 256 dimensions) into the embedded numpy index. Each query (3 to 6 words, one of
them a frequent one, as questions have) is timed through ``hybrid_search``: the query
embedded, keyword search, vector search, fusion and the chunks read back. Reported: p50,
p95 and p99 of the whole, and p50 of the keyword and vector searches alone.
"""

from __future__ import annotations

import argparse
import asyncio
import random
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _harness import machine, percentile, scratch_database  # noqa: E402
from agenthub.accounts.models import Organization  # noqa: E402
from agenthub.db import migrate  # noqa: E402
from agenthub.db.engine import create_engine, create_session_factory, session_scope  # noqa: E402
from agenthub.knowledge.models import KnowledgeBase, KnowledgeChunk, KnowledgeDocument  # noqa: E402
from agenthub.knowledge.retrieval import hybrid_search, keyword_search  # noqa: E402
from agenthub.knowledge.vectors import NumpyIndex  # noqa: E402
from agenthub.llm.embeddings import FakeEmbedder  # noqa: E402

VOCABULARY = 20_000
WORDS_PER_CHUNK = 80
BATCH = 5_000
KB_ID = "kb_bench"


def vocabulary(rng: random.Random) -> list[str]:
    letters = "bcdfghjklmnpqrtvwxz" + "aeiou"
    words: set[str] = set()
    while len(words) < VOCABULARY:
        size = rng.randint(4, 9)
        word = "".join(rng.choice(letters) for _ in range(size))
        if not word.endswith("s"):
            words.add(word)
    return sorted(words)


def zipf_weights(n: int) -> np.ndarray:
    weights = 1.0 / np.arange(1, n + 1) ** 1.07
    return weights / weights.sum()


def corpus(count: int, words: list[str], seed: int) -> tuple[list[str], np.ndarray]:
    """``count`` chunk texts and their fake-embedder vectors (the same as embedding each
    text, computed per word once)."""
    generator = np.random.default_rng(seed)
    embedder = FakeEmbedder()
    word_vectors = np.asarray([embedder.vector(w) for w in words], dtype=np.float32)  # one ±1 each
    draws = generator.choice(len(words), size=(count, WORDS_PER_CHUNK), p=zipf_weights(len(words)))
    texts = [" ".join(words[i] for i in row) for row in draws]
    vectors = np.zeros((count, embedder.dimensions or 256), dtype=np.float32)
    for column in range(WORDS_PER_CHUNK):
        vectors += word_vectors[draws[:, column]]
    vectors /= np.maximum(np.linalg.norm(vectors, axis=1, keepdims=True), 1e-9)
    return texts, vectors


def queries(count: int, words: list[str], seed: int) -> list[str]:
    rng = random.Random(seed)
    frequent, rest = words[:12], words[200:8000]
    return [" ".join([rng.choice(frequent), *rng.sample(rest, rng.randint(2, 5))]) for _ in range(count)]


async def load(database_url: str, texts: list[str]) -> None:
    engine = create_engine(database_url, pool_size=2)
    try:
        await migrate.upgrade(engine)
        sessions = create_session_factory(engine)
        async with session_scope(sessions) as session:
            session.add(Organization(id="bench", name="Bench"))
            session.add(KnowledgeBase(id=KB_ID, org_id="bench", name="Bench", embedding_model="fake",
                                      embedding_dimensions=256))
            await session.flush()
            session.add(KnowledgeDocument(id="doc_bench", knowledge_base_id=KB_ID, org_id="bench",
                                          file_name="bench.txt", file_type="txt", size_bytes=0, status="ready",
                                          chunks_done=len(texts), chunks_total=len(texts)))
        for start in range(0, len(texts), BATCH):
            async with session_scope(sessions) as session:
                await session.execute(KnowledgeChunk.__table__.insert(), [
                    {"id": start + i + 1, "knowledge_base_id": KB_ID, "document_id": "doc_bench", "position": start + i,
                     "text": text} for i, text in enumerate(texts[start:start + BATCH])
                ])
        if engine.dialect.name == "postgresql":
            async with engine.begin() as connection:
                await connection.exec_driver_sql("ANALYZE knowledge_chunks")
    finally:
        await engine.dispose()


async def measure(database_url: str, index: NumpyIndex, asked: list[str], top_k: int) -> dict[str, float]:
    engine = create_engine(database_url, pool_size=2)
    embedder = FakeEmbedder()
    sessions = create_session_factory(engine)
    totals: list[float] = []
    keywords: list[float] = []
    vectors: list[float] = []

    async def embed_query(_kb: KnowledgeBase, text: str) -> list[float]:
        return (await embedder.embed([text]))[0]

    try:
        async with session_scope(sessions) as session:
            kb = await session.get(KnowledgeBase, KB_ID)
            assert kb is not None
            for n, query in enumerate(asked):
                started = time.perf_counter()
                found = await hybrid_search(session, index, [kb], query, top_k=top_k, embed_query=embed_query)
                elapsed = time.perf_counter() - started
                assert found, query
                started = time.perf_counter()
                await keyword_search(session, [KB_ID], query, max(4 * top_k, 20))
                keyword = time.perf_counter() - started
                started = time.perf_counter()
                await index.search(KB_ID, embedder.vector(query), max(4 * top_k, 20))
                vector = time.perf_counter() - started
                if n >= 10:  # the first ones warm the caches (and load the index)
                    totals.append(elapsed * 1000)
                    keywords.append(keyword * 1000)
                    vectors.append(vector * 1000)
    finally:
        await engine.dispose()
    return {
        "p50": percentile(totals, 50), "p95": percentile(totals, 95), "p99": percentile(totals, 99),
        "keyword_p50": percentile(keywords, 50), "vector_p50": percentile(vectors, 50), "n": len(totals),
    }


async def run(args: argparse.Namespace, postgres: str | None) -> None:
    words = vocabulary(random.Random(7))
    started = time.perf_counter()
    texts, matrix = corpus(args.chunks, words, seed=11)
    print(f"corpus: {args.chunks} chunks in {time.perf_counter() - started:.1f} s", flush=True)
    asked = queries(args.queries + 10, words, seed=13)
    with tempfile.TemporaryDirectory(prefix="agenthub-bench-") as scratch:
        index = NumpyIndex(Path(scratch) / "knowledge")
        await index.add(KB_ID, "doc_bench", list(range(1, args.chunks + 1)), matrix)
        targets = [("SQLite (FTS5) + embedded index", f"sqlite+aiosqlite:///{scratch}/agenthub.db")]
        if postgres:
            targets.append(("PostgreSQL (tsvector, GIN) + embedded index",
                            postgres.replace("postgresql://", "postgresql+asyncpg://", 1)))
        for name, url in targets:
            started = time.perf_counter()
            await load(url, texts)
            print(f"{name}: loaded in {time.perf_counter() - started:.1f} s", flush=True)
            index._matrices.clear()  # each target loads the index from its file again
            result = await measure(url, index, asked, args.top_k)
            print(
                f"{name}: p50 {result['p50']:.1f} ms, p95 {result['p95']:.1f} ms, p99 {result['p99']:.1f} ms "
                f"(keyword p50 {result['keyword_p50']:.1f} ms, vector p50 {result['vector_p50']:.1f} ms; "
                f"{result['n']} queries, top {args.top_k})",
                flush=True,
            )
    print(machine())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--chunks", type=int, default=100_000)
    parser.add_argument("--queries", type=int, default=300)
    parser.add_argument("--top-k", type=int, default=5)
    parser.add_argument("--postgres-url", default=None, help="a PostgreSQL server to make a scratch database on")
    args = parser.parse_args()
    with scratch_database(args.postgres_url) as postgres:
        asyncio.run(run(args, postgres))


if __name__ == "__main__":
    main()
