"""Embeddings: the offline ``fake`` model is deterministic and puts texts that share words
near each other; calls to OpenAI's own API without its key are refused before any
connection, saying what to do; an OpenAI-compatible endpoint gets its vectors."""

from __future__ import annotations

import pytest

from agenthub.config import Settings
from agenthub.llm.embeddings import FakeEmbedder, MissingEmbeddingKey, build_embedder
from tests.support.fake_openai import FakeOpenAI


def _dot(a: list[float], b: list[float]) -> float:
    return sum(x * y for x, y in zip(a, b, strict=True))


async def test_fake_embeddings_are_deterministic_and_near_for_shared_words() -> None:
    one, again = FakeEmbedder(), FakeEmbedder()
    cat, cats, tax = await one.embed(["The cat sits on mats", "cats sit on a mat", "quarterly tax report"])
    assert (await again.embed(["The cat sits on mats"]))[0] == cat
    assert _dot(cat, cats) > 0.5 > _dot(cat, tax)
    assert len(cat) == one.dimensions


def test_openai_without_its_key_is_refused_saying_what_to_do(settings: Settings) -> None:
    with pytest.raises(MissingEmbeddingKey) as refused:
        build_embedder(settings.model_copy(update={
            "openai_api_key": None, "openai_base_url": None, "embedding_model": "text-embedding-3-small"}))
    assert "OPENAI_API_KEY is not set" in refused.value.message and "EMBEDDING_MODEL=fake" in refused.value.message


async def test_an_openai_compatible_endpoint_embeds(settings: Settings, fake_openai: FakeOpenAI) -> None:
    embedder = build_embedder(settings, model="nomic", base_url=fake_openai.url, dimensions=32)
    vectors = await embedder.embed(["alpha beta", "gamma"])
    assert [len(v) for v in vectors] == [32, 32]
    request = fake_openai.requests[-1]
    assert request.path.endswith("/embeddings") and request.body["model"] == "nomic"
    assert request.body["input"] == ["alpha beta", "gamma"] and "authorization" not in request.headers
