"""Settings for the billing tests: on SQLite and PostgreSQL (migrated), on each bus where
the spend counters matter (in-process, Redis)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

import pytest

from agenthub.config import Settings
from tests.agents.helpers import migrated
from tests.support.server import make_settings

MakeSettings = Callable[..., Awaitable[Settings]]


def _maker(request: pytest.FixtureRequest, database_url: str, bus: str) -> MakeSettings:
    async def make(**overrides: Any) -> Settings:
        await migrated(database_url)
        if bus == "redis":
            overrides["redis_url"] = request.getfixturevalue("redis_server_url")
            overrides["redis_prefix"] = request.getfixturevalue("redis_prefix")
        return make_settings(database_url=database_url, openai_api_key="sk-test-billing", **overrides)

    return make


@pytest.fixture(params=["memory", "redis"])
def settings_on_each_bus(request: pytest.FixtureRequest, database_url: str) -> MakeSettings:
    """Makes settings (with overrides) on this test's database and bus."""
    return _maker(request, database_url, request.param)


@pytest.fixture
def embedded_settings(request: pytest.FixtureRequest, database_url: str) -> MakeSettings:
    """Makes settings (with overrides) on this test's database and the in-process bus."""
    return _maker(request, database_url, "memory")
