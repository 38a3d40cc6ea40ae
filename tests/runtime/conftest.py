from __future__ import annotations

import pytest

from tests.runtime.helpers import migrated_sessions


@pytest.fixture
async def migrated_postgres_url(postgres_url: str) -> str:
    """A fresh PostgreSQL database migrated to head (``agenthub migrate``), as the app and
    ``agenthub worker`` expect it outside the embedded mode."""
    engine, _sessions = await migrated_sessions(postgres_url)
    await engine.dispose()
    return postgres_url
