"""A migrated database with two organisations, and each vector index backend."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from agenthub.accounts.models import Organization
from agenthub.db.engine import SessionFactory, create_engine, create_session_factory, session_scope
from agenthub.knowledge.vectors import NumpyIndex, QdrantIndex, VectorIndex
from tests.agents.helpers import migrated


@pytest.fixture
async def sessions(database_url: str) -> AsyncIterator[SessionFactory]:
    await migrated(database_url)
    engine = create_engine(database_url, pool_size=2)
    factory = create_session_factory(engine)
    async with session_scope(factory) as session:
        session.add_all([Organization(id="org-a", name="A"), Organization(id="org-b", name="B")])
    try:
        yield factory
    finally:
        await engine.dispose()


@pytest.fixture(params=["numpy", "qdrant"])
async def index(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[VectorIndex]:
    """The embedded index under a temporary DATA_DIR, or Qdrant in the client's local mode."""
    if request.param == "numpy":
        made: VectorIndex = NumpyIndex(tmp_path / "knowledge")
    else:
        from qdrant_client import AsyncQdrantClient

        made = QdrantIndex(AsyncQdrantClient(location=":memory:"), "test_chunks")
    try:
        yield made
    finally:
        await made.close()
