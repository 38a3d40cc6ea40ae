"""Fixtures for the model tests: a fake OpenAI-compatible server and clean settings."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from agenthub.config import Settings
from tests.support.fake_openai import FakeOpenAI


@pytest.fixture
def fake_openai() -> Iterator[FakeOpenAI]:
    """A real OpenAI-compatible HTTP server on a free port, stopped after the test."""
    with FakeOpenAI() as server:
        yield server


@pytest.fixture
def settings(monkeypatch: pytest.MonkeyPatch) -> Settings:
    """Settings free of the developer's environment and ``.env`` file (no API keys)."""
    for name in ("OPENAI_API_KEY", "OPENROUTER_API_KEY", "OPENAI_BASE_URL", "OPENAI_API_BASE"):
        monkeypatch.delenv(name, raising=False)
    return Settings(_env_file=None)
