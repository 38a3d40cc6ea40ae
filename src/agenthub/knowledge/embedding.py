"""The embedder of each knowledge base: its model at its ``embedding_base_url`` (checked with
the outbound guard every time it is used, as trusted as whoever set it) or the platform's
default endpoint."""

from __future__ import annotations

from agenthub.config import Settings
from agenthub.knowledge.models import KnowledgeBase
from agenthub.llm.embeddings import Embedder, build_embedder
from agenthub.outbound.guard import OutboundGuard


class KnowledgeEmbedders:
    def __init__(self, settings: Settings, guard: OutboundGuard) -> None:
        self.settings = settings
        self.guard = guard
        self._embedders: dict[tuple[str, str | None, int | None], Embedder] = {}

    async def embedder(self, kb: KnowledgeBase) -> Embedder:
        """The knowledge base's embedder; raises ``OutboundRefused`` for an endpoint the
        guard refuses now (its address may have changed since it was set)."""
        if kb.embedding_base_url:
            await self.guard.check(kb.embedding_base_url, trusted=kb.base_url_trusted)
        key = (kb.embedding_model, kb.embedding_base_url, kb.embedding_dimensions)
        embedder = self._embedders.get(key)
        if embedder is None:
            embedder = self._embedders[key] = build_embedder(
                self.settings, model=kb.embedding_model, base_url=kb.embedding_base_url,
                dimensions=kb.embedding_dimensions,
            )
        return embedder

    async def embed(self, kb: KnowledgeBase, texts: list[str]) -> list[list[float]]:
        return await (await self.embedder(kb)).embed(texts)
