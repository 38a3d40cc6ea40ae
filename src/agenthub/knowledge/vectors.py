"""The vector index of knowledge-base chunks: one interface, an embedded default and a
production backend.

- :class:`NumpyIndex` (embedded): one matrix per knowledge base, in memory, persisted as
  ``<DATA_DIR>/knowledge/<knowledge base id>.npz`` (written whole to a new file, then renamed
  over the old: a reader never sees half a file); loaded lazily on first use, and read again
  when another process (the server's document processor) has written it since. One writer
  per knowledge base at a time (the embedded server is one process).
  Searching is one matrix product (cosine similarity of normalised vectors).
- :class:`QdrantIndex` (``QDRANT_URL``): points keyed by chunk id, with the knowledge base and
  document in their payload (searches are filtered by knowledge base); one collection per
  vector size, ``<QDRANT_COLLECTION>_<dimensions>``. It takes a client, so tests pass one in
  qdrant-client's local mode.

:func:`open_index` picks one from settings (entry points only).
"""

from __future__ import annotations

import asyncio
import os
import tempfile
import warnings
from abc import ABC, abstractmethod
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from agenthub.config import Settings

DEFAULT_COLLECTION = "agenthub_chunks"


class VectorIndex(ABC):
    """Chunk vectors by knowledge base."""

    @abstractmethod
    async def add(
        self, knowledge_base_id: str, document_id: str, ids: Sequence[int], vectors: Sequence[Sequence[float]]
    ) -> None:
        """Add (or replace) the vectors of chunks ``ids``."""

    @abstractmethod
    async def remove(self, knowledge_base_id: str, ids: Sequence[int]) -> None:
        """Forget the chunks ``ids`` (ids it does not hold are ignored)."""

    @abstractmethod
    async def drop(self, knowledge_base_id: str) -> None:
        """Forget a knowledge base's every vector."""

    @abstractmethod
    async def search(
        self, knowledge_base_id: str, vector: Sequence[float], top_k: int
    ) -> list[tuple[int, float]]:
        """The ``top_k`` chunks nearest to ``vector``: (chunk id, similarity), best first."""

    async def close(self) -> None:  # noqa: B027 - the embedded index holds nothing open
        """Release the connection."""


class _Matrix:
    """One knowledge base's vectors: ``ids[i]`` is row ``i`` of ``vectors`` (normalised)."""

    def __init__(self, ids: np.ndarray, vectors: np.ndarray, version: tuple[int, int]) -> None:
        self.ids = ids
        self.vectors = vectors
        self.version = version
        """The file's (inode, mtime in ns): a file written since is a new inode (replaced)."""


def _normalised(vectors: Sequence[Sequence[float]] | Sequence[float]) -> np.ndarray:
    matrix = np.asarray(vectors, dtype=np.float32)
    if matrix.ndim == 1:
        matrix = matrix.reshape(1, -1)
    norms = np.linalg.norm(matrix, axis=1, keepdims=True)
    norms[norms == 0] = 1.0
    return matrix / norms


class NumpyIndex(VectorIndex):
    def __init__(self, root: Path) -> None:
        self.root = root
        self._matrices: dict[str, _Matrix] = {}
        self._locks: dict[str, asyncio.Lock] = {}

    def _path(self, knowledge_base_id: str) -> Path:
        return self.root / f"{knowledge_base_id}.npz"

    def _lock(self, knowledge_base_id: str) -> asyncio.Lock:
        return self._locks.setdefault(knowledge_base_id, asyncio.Lock())

    def _load(self, knowledge_base_id: str) -> _Matrix | None:
        """The matrix, read from its file when this process has none or an older one."""
        path = self._path(knowledge_base_id)
        try:
            stat = path.stat()
        except FileNotFoundError:
            self._matrices.pop(knowledge_base_id, None)
            return None
        version = (stat.st_ino, stat.st_mtime_ns)
        held = self._matrices.get(knowledge_base_id)
        if held is not None and held.version == version:
            return held
        with np.load(path) as data:
            matrix = _Matrix(data["ids"], data["vectors"], version)
        self._matrices[knowledge_base_id] = matrix
        return matrix

    def _save(self, knowledge_base_id: str, ids: np.ndarray, vectors: np.ndarray) -> None:
        self.root.mkdir(parents=True, exist_ok=True)
        path = self._path(knowledge_base_id)
        handle, temporary = tempfile.mkstemp(dir=self.root, suffix=".npz.tmp")
        with os.fdopen(handle, "wb") as file:
            np.savez(file, ids=ids, vectors=vectors)
        os.replace(temporary, path)
        stat = path.stat()
        self._matrices[knowledge_base_id] = _Matrix(ids, vectors, (stat.st_ino, stat.st_mtime_ns))

    def _write(self, knowledge_base_id: str, ids: Sequence[int], vectors: Sequence[Sequence[float]] | None) -> None:
        held = self._load(knowledge_base_id)
        old_ids = held.ids if held is not None else np.zeros(0, dtype=np.int64)
        keep = ~np.isin(old_ids, np.asarray(ids, dtype=np.int64))
        new_ids = old_ids[keep]
        new_vectors = held.vectors[keep] if held is not None else None
        if vectors is not None and len(ids):
            added = _normalised(vectors)
            new_ids = np.concatenate([new_ids, np.asarray(ids, dtype=np.int64)])
            new_vectors = added if new_vectors is None or not len(new_vectors) else np.vstack([new_vectors, added])
        if new_vectors is None:
            return
        self._save(knowledge_base_id, new_ids, new_vectors)

    async def add(
        self, knowledge_base_id: str, document_id: str, ids: Sequence[int], vectors: Sequence[Sequence[float]]
    ) -> None:
        async with self._lock(knowledge_base_id):
            await asyncio.to_thread(self._write, knowledge_base_id, list(ids), vectors)

    async def remove(self, knowledge_base_id: str, ids: Sequence[int]) -> None:
        async with self._lock(knowledge_base_id):
            await asyncio.to_thread(self._write, knowledge_base_id, list(ids), None)

    async def drop(self, knowledge_base_id: str) -> None:
        async with self._lock(knowledge_base_id):
            self._matrices.pop(knowledge_base_id, None)
            self._path(knowledge_base_id).unlink(missing_ok=True)

    def _search(self, knowledge_base_id: str, vector: Sequence[float], top_k: int) -> list[tuple[int, float]]:
        matrix = self._load(knowledge_base_id)
        if matrix is None or not len(matrix.ids):
            return []
        query = _normalised(vector)[0]
        if query.shape[0] != matrix.vectors.shape[1]:
            return []  # embedded with another model's dimensions: nothing comparable
        scores = matrix.vectors @ query
        count = min(top_k, len(scores))
        best = np.argpartition(-scores, count - 1)[:count]
        best = best[np.argsort(-scores[best])]
        return [(int(matrix.ids[i]), float(scores[i])) for i in best]

    async def search(self, knowledge_base_id: str, vector: Sequence[float], top_k: int) -> list[tuple[int, float]]:
        held = self._matrices.get(knowledge_base_id)
        if held is not None and len(held.ids) < 20_000:
            return self._search(knowledge_base_id, vector, top_k)  # small: quicker than a thread hand-off
        return await asyncio.to_thread(self._search, knowledge_base_id, vector, top_k)


class QdrantIndex(VectorIndex):
    def __init__(self, client: Any, collection: str = DEFAULT_COLLECTION) -> None:
        """``client``: a ``qdrant_client.AsyncQdrantClient`` (a URL's, or local mode's)."""
        self.client = client
        self.collection = collection
        self._ready: set[str] = set()

    def _name(self, dimensions: int) -> str:
        return f"{self.collection}_{dimensions}"

    async def _collection(self, dimensions: int) -> str:
        from qdrant_client import models

        name = self._name(dimensions)
        if name not in self._ready:
            if not await self.client.collection_exists(name):
                await self.client.create_collection(
                    name, vectors_config=models.VectorParams(size=dimensions, distance=models.Distance.COSINE)
                )
                with warnings.catch_warnings():  # local mode says payload indexes do nothing there
                    warnings.simplefilter("ignore", UserWarning)
                    await self.client.create_payload_index(name, "kb", field_schema=models.PayloadSchemaType.KEYWORD)
            self._ready.add(name)
        return name

    async def _collections(self) -> list[str]:
        found = await self.client.get_collections()
        prefix = f"{self.collection}_"
        return [c.name for c in found.collections if c.name.startswith(prefix) and c.name[len(prefix):].isdigit()]

    @staticmethod
    def _of(knowledge_base_id: str) -> Any:
        from qdrant_client import models

        return models.Filter(must=[models.FieldCondition(key="kb", match=models.MatchValue(value=knowledge_base_id))])

    async def add(
        self, knowledge_base_id: str, document_id: str, ids: Sequence[int], vectors: Sequence[Sequence[float]]
    ) -> None:
        from qdrant_client import models

        if not ids:
            return
        name = await self._collection(len(vectors[0]))
        points = [
            models.PointStruct(id=int(i), vector=list(v), payload={"kb": knowledge_base_id, "doc": document_id})
            for i, v in zip(ids, vectors, strict=True)
        ]
        await self.client.upsert(name, points=points, wait=True)

    async def remove(self, knowledge_base_id: str, ids: Sequence[int]) -> None:
        from qdrant_client import models

        if not ids:
            return
        for name in await self._collections():
            await self.client.delete(name, points_selector=models.PointIdsList(points=[int(i) for i in ids]), wait=True)

    async def drop(self, knowledge_base_id: str) -> None:
        from qdrant_client import models

        for name in await self._collections():
            await self.client.delete(
                name, points_selector=models.FilterSelector(filter=self._of(knowledge_base_id)), wait=True
            )

    async def search(self, knowledge_base_id: str, vector: Sequence[float], top_k: int) -> list[tuple[int, float]]:
        name = self._name(len(vector))
        if name not in self._ready and not await self.client.collection_exists(name):
            return []
        self._ready.add(name)
        found = await self.client.query_points(
            name, query=list(vector), query_filter=self._of(knowledge_base_id), limit=top_k, with_payload=False
        )
        return [(int(point.id), float(point.score)) for point in found.points]

    async def close(self) -> None:
        await self.client.close()


def open_index(settings: Settings) -> VectorIndex:
    """The index settings name: Qdrant at ``QDRANT_URL``, else the embedded one under ``DATA_DIR``."""
    if settings.qdrant_url:
        from qdrant_client import AsyncQdrantClient

        client = AsyncQdrantClient(url=settings.qdrant_url)
        return QdrantIndex(client, settings.qdrant_collection or DEFAULT_COLLECTION)
    return NumpyIndex(Path(settings.data_dir) / "knowledge")
