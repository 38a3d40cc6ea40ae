from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from agenthub.channels.telegram import runner
from tests.support.fake_telegram import FakeBotApi


@pytest.fixture
async def api() -> AsyncIterator[FakeBotApi]:
    async with FakeBotApi() as fake:
        yield fake


@pytest.fixture(autouse=True)
def short_long_polls(monkeypatch: pytest.MonkeyPatch) -> None:
    """The fake answers a long poll only when it ends (its handler outlives a client that
    went away), and it is closed after each test: short polls close it at once."""
    monkeypatch.setattr(runner, "POLL_TIMEOUT", 1)
