"""Contract suite for the vector index of knowledge bases: every test runs on the embedded
numpy index and on Qdrant (in the client's local mode), so the two behave the same for
retrieval."""

from __future__ import annotations

import math
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from agenthub.knowledge.vectors import NumpyIndex, QdrantIndex, VectorIndex


@pytest.fixture(params=["numpy", "qdrant"])
async def index(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[VectorIndex]:
    if request.param == "numpy":
        made: VectorIndex = NumpyIndex(tmp_path / "knowledge")
    else:
        from qdrant_client import AsyncQdrantClient

        made = QdrantIndex(AsyncQdrantClient(location=":memory:"), "contract")
    try:
        yield made
    finally:
        await made.close()


def unit(*values: float) -> list[float]:
    norm = math.sqrt(sum(v * v for v in values))
    return [v / norm for v in values]


X, Y, Z = unit(1, 0, 0), unit(0, 1, 0), unit(0, 0, 1)


async def test_search_ranks_by_similarity_best_first(index: VectorIndex) -> None:
    await index.add("kb1", "doc1", [1, 2, 3], [X, unit(1, 1, 0), Z])
    found = await index.search("kb1", unit(1, 0.1, 0), 3)
    assert [chunk_id for chunk_id, _ in found] == [1, 2, 3]
    assert found[0][1] == pytest.approx(0.995, abs=0.01)
    assert found[0][1] > found[1][1] > found[2][1]
    assert [chunk_id for chunk_id, _ in await index.search("kb1", X, 1)] == [1]


async def test_knowledge_bases_are_apart(index: VectorIndex) -> None:
    await index.add("kb1", "doc1", [1], [X])
    await index.add("kb2", "doc2", [2], [X])
    assert [i for i, _ in await index.search("kb1", X, 5)] == [1]
    assert [i for i, _ in await index.search("kb2", X, 5)] == [2]
    assert await index.search("kb-none", X, 5) == []


async def test_adding_an_id_again_replaces_its_vector(index: VectorIndex) -> None:
    await index.add("kb1", "doc1", [1, 2], [X, Y])
    await index.add("kb1", "doc1", [1], [Z])
    found = await index.search("kb1", Z, 5)
    assert found[0][0] == 1 and found[0][1] == pytest.approx(1.0, abs=1e-4)
    assert sorted(i for i, _ in found) == [1, 2]  # once each


async def test_removed_and_dropped_vectors_are_found_no_more(index: VectorIndex) -> None:
    await index.add("kb1", "doc1", [1, 2, 3], [X, Y, Z])
    await index.add("kb2", "doc2", [4], [X])
    await index.remove("kb1", [2, 99])
    assert sorted(i for i, _ in await index.search("kb1", Y, 5)) == [1, 3]
    await index.drop("kb1")
    assert await index.search("kb1", X, 5) == []
    assert [i for i, _ in await index.search("kb2", X, 5)] == [4]
    await index.remove("kb1", [])  # nothing to do, no error


async def test_a_query_of_other_dimensions_finds_nothing(index: VectorIndex) -> None:
    await index.add("kb1", "doc1", [1], [X])
    assert await index.search("kb1", [1.0, 0.0], 5) == []


async def test_the_embedded_index_is_persisted_and_read_again(tmp_path: Path) -> None:
    written = NumpyIndex(tmp_path)
    await written.add("kb1", "doc1", [7, 8], [X, Y])
    reader = NumpyIndex(tmp_path)  # another process: loads the file on first use
    assert [i for i, _ in await reader.search("kb1", Y, 1)] == [8]
    await written.add("kb1", "doc1", [9], [Z])  # written since: read again
    assert [i for i, _ in await reader.search("kb1", Z, 1)] == [9]
