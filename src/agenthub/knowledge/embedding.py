"""The embedder of each knowledge base: its model at its ``embedding_base_url`` (checked with
the outbound guard every time it is used, as trusted as whoever set it, and reached through a
client the guard holds for) or the platform's default endpoint."""

from __future__ import annotations

import httpx

from agenthub.config import Settings
from agenthub.knowledge.models import KnowledgeBase
from agenthub.llm.embeddings import FAKE_MODEL, Embedder, build_embedder
from agenthub.outbound.guard import OutboundGuard
from agenthub.outbound.http import guarded_client


class KnowledgeEmbedders:
    def __init__(self, settings: Settings, guard: OutboundGuard) -> None:
        self.settings = settings
        self.guard = guard
        self._embedders: dict[tuple[str, str | None, int | None, bool], Embedder] = {}
        self._clients: list[httpx.AsyncClient] = []

    async def embedder(self, kb: KnowledgeBase) -> Embedder:
        """The knowledge base's embedder; raises ``OutboundRefused`` for an endpoint the
        guard refuses now (its address may have changed since it was set)."""
        if kb.embedding_base_url:
            await self.guard.check(kb.embedding_base_url, trusted=kb.base_url_trusted)
        key = (kb.embedding_model, kb.embedding_base_url, kb.embedding_dimensions, kb.base_url_trusted)
        embedder = self._embedders.get(key)
        if embedder is None:
            # A user's endpoint: the connection goes only to an address the guard allows (after
            # DNS resolution, at connection time); the platform's own needs no guard.
            client = guarded_client(self.guard, trusted=kb.base_url_trusted, timeout=60.0) \
                if kb.embedding_base_url and kb.embedding_model != FAKE_MODEL else None
            if client is not None:
                self._clients.append(client)
            embedder = self._embedders[key] = build_embedder(
                self.settings, model=kb.embedding_model, base_url=kb.embedding_base_url,
                dimensions=kb.embedding_dimensions, http_client=client,
            )
        return embedder

    async def embed(self, kb: KnowledgeBase, texts: list[str]) -> list[list[float]]:
        return await (await self.embedder(kb)).embed(texts)

    async def aclose(self) -> None:
        """Close the connections to users' endpoints."""
        clients, self._clients, self._embedders = self._clients, [], {}
        for client in clients:
            await client.aclose()
