"""Embeddings: text to vectors, through an OpenAI-compatible ``/embeddings`` endpoint, or
offline with the ``fake`` model.

Knowledge bases and archival memory embed with an :class:`Embedder` built by
:func:`build_embedder`: ``text-embedding-3-small`` at ``OPENAI_BASE_URL`` (or OpenAI's API)
with ``OPENAI_API_KEY`` by default, any OpenAI-compatible endpoint by ``base_url``, or
``fake``: a deterministic embedding of the words of a text (signed feature hashing), so
that texts sharing words are near each other, with no network and no model download.
"""

from __future__ import annotations

import hashlib
import math
import re
from abc import ABC, abstractmethod
from typing import Any
from urllib.parse import urlsplit

from pydantic import SecretStr

from agenthub.config import Settings
from agenthub.errors import ModelFailed
from agenthub.llm.factory import OPENAI_HOST, OPENAI_URL, platform_key
from agenthub.llm.streaming import NO_KEY, KeylessAsyncClient

FAKE_MODEL = "fake"
DEFAULT_MODEL = "text-embedding-3-small"
FAKE_DIMENSIONS = 256
BATCH = 128
"""Texts sent in one request at most."""
_WORD = re.compile(r"\w+", re.UNICODE)


class MissingEmbeddingKey(ModelFailed):
    """Embeddings would go to OpenAI's own API, whose key is not set on the server: refused
    before any connection is made."""

    code = "missing_provider_key"

    def __init__(self, model: str) -> None:
        super().__init__(
            f"OPENAI_API_KEY is not set on the server, so embeddings with {model} at {OPENAI_HOST} can't be made. "
            "Set it (for `agenthub serve` and every `agenthub worker`), point OPENAI_BASE_URL or the knowledge "
            "base's embedding_base_url at another OpenAI-compatible server, or use the offline `fake` embedding "
            "model (EMBEDDING_MODEL=fake)."
        )


class Embedder(ABC):
    model: str
    dimensions: int | None
    """The length of the vectors, when known before the first call."""

    @abstractmethod
    async def embed(self, texts: list[str]) -> list[list[float]]:
        """One vector per text, in order."""


class FakeEmbedder(Embedder):
    """Offline and deterministic: each word (lower case, a plural's ``s`` dropped) adds ±1 to
    one of ``dimensions`` components chosen by its hash; the vector is normalised."""

    def __init__(self, dimensions: int | None = None) -> None:
        self.model = FAKE_MODEL
        self.dimensions = dimensions or FAKE_DIMENSIONS

    def vector(self, text: str) -> list[float]:
        size = self.dimensions or FAKE_DIMENSIONS
        vector = [0.0] * size
        for word in _WORD.findall(text.lower()):
            if len(word) > 3 and word.endswith("s") and not word.endswith("ss"):
                word = word[:-1]
            digest = hashlib.blake2b(word.encode(), digest_size=8).digest()
            index = int.from_bytes(digest[:4], "little") % size
            vector[index] += 1.0 if digest[4] & 1 else -1.0
        norm = math.sqrt(sum(value * value for value in vector))
        return [value / norm for value in vector] if norm else vector

    async def embed(self, texts: list[str]) -> list[list[float]]:
        return [self.vector(text) for text in texts]


class OpenAIEmbedder(Embedder):
    """An OpenAI-compatible ``POST /embeddings`` endpoint (OpenAI, Ollama, vLLM, LiteLLM...)."""

    def __init__(
        self, *, model: str, base_url: str, api_key: SecretStr | None, dimensions: int | None = None,
        timeout: float = 60.0, http_client: Any = None,
    ) -> None:
        """``http_client``: the ``httpx.AsyncClient`` to send with (one the outbound guard holds
        for, for a URL a user set); None: the SDK's own."""
        import openai  # the SDK is langchain-openai's; imported where embeddings are used

        self.model = model
        self.dimensions = dimensions
        self.base_url = base_url
        self._client = openai.AsyncOpenAI(
            base_url=base_url, api_key=api_key.get_secret_value() if api_key else NO_KEY,
            timeout=timeout, max_retries=1,
            # Without a key none is sent (the SDK insists on one: the placeholder is taken out).
            http_client=http_client if http_client is not None else KeylessAsyncClient(),
        )

    async def embed(self, texts: list[str]) -> list[list[float]]:
        vectors: list[list[float]] = []
        for start in range(0, len(texts), BATCH):
            extra: dict[str, Any] = {"dimensions": self.dimensions} if self.dimensions else {}
            response = await self._client.embeddings.create(
                model=self.model, input=texts[start:start + BATCH], **extra
            )
            vectors += [list(item.embedding) for item in sorted(response.data, key=lambda item: item.index)]
        if vectors and self.dimensions is None:
            self.dimensions = len(vectors[0])
        return vectors


def build_embedder(
    settings: Settings,
    *,
    model: str | None = None,
    base_url: str | None = None,
    dimensions: int | None = None,
    api_key: SecretStr | None = None,
    http_client: Any = None,
) -> Embedder:
    """The embedder of a knowledge base (or of archival memory). Without ``base_url`` the
    calls go to ``OPENAI_BASE_URL`` or OpenAI's API with ``OPENAI_API_KEY``; a ``base_url``
    of someone else's gets only ``api_key`` (a credential's value), never the platform key.
    The caller checks ``base_url`` with the outbound guard first, and passes an ``http_client``
    the guard holds for (``agenthub.outbound.http.guarded_client``), so that the connection
    goes only to an address it checked."""
    model = model or DEFAULT_MODEL
    if model == FAKE_MODEL:
        return FakeEmbedder(dimensions)
    url = (base_url or settings.openai_base_url or OPENAI_URL).rstrip("/")
    key = api_key or platform_key(settings, "openai", url)
    if key is None and urlsplit(url).hostname == OPENAI_HOST:
        raise MissingEmbeddingKey(model)
    return OpenAIEmbedder(model=model, base_url=url, api_key=key, dimensions=dimensions, http_client=http_client)
