"""Settings come from the environment under the seed names."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from agenthub.config import ConfigurationError, Settings, mask_url, normalise_database_url


def test_seed_names_are_read_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    values = {
        "DATABASE_URL": "postgresql://u@db/agenthub",
        "REDIS_URL": "redis://cache:6379/1",
        "MANAGER_PORT": "9000",
        "AGENT_INACTIVITY_TIMEOUT": "60",
        "AGENT_INACTIVITY_CHECK_INTERVAL": "5",
        "PROCESS_CHECK_INTERVAL": "0.5",
        "MAX_RESTART_ATTEMPTS": "2",
        "AGENT_RUNNER_HEARTBEAT_INTERVAL": "1.5",
        "OPENAI_API_KEY": "sk-from-env-123456",
        "TELEGRAM_BOT_TOKEN": "1:abc",
        "SMTP_PORT": "2525",
    }
    for name, value in values.items():
        monkeypatch.setenv(name, value)
    settings = Settings(_env_file=None)
    assert settings.effective_database_url == "postgresql+asyncpg://u@db/agenthub"
    assert settings.redis_url == "redis://cache:6379/1" and not settings.embedded
    assert settings.manager_port == 9000
    assert (settings.agent_inactivity_timeout, settings.agent_inactivity_check_interval) == (60, 5)
    assert (settings.process_check_interval, settings.max_restart_attempts) == (0.5, 2)
    assert settings.agent_runner_heartbeat_interval == 1.5
    assert settings.openai_api_key is not None and settings.openai_api_key.get_secret_value() == "sk-from-env-123456"
    assert "sk-from-env" not in repr(settings), "secrets never show in a repr or a log"
    assert settings.smtp_port == 2525


def test_unset_and_blank_urls_mean_the_embedded_defaults(monkeypatch: pytest.MonkeyPatch, tmp_path) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setenv("DATABASE_URL", "")
    monkeypatch.delenv("REDIS_URL", raising=False)
    settings = Settings(_env_file=None, data_dir=tmp_path)
    assert settings.embedded and settings.uses_sqlite
    assert settings.effective_database_url == f"sqlite+aiosqlite:///{tmp_path.as_posix()}/agenthub.db"


def test_a_bad_value_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MANAGER_PORT", "not-a-port")
    with pytest.raises(ValueError, match="manager_port"):
        Settings(_env_file=None)


@pytest.mark.parametrize(("given", "level"), [("debug", "DEBUG"), ("Warning", "WARNING"), (" error ", "ERROR")])
def test_log_level_takes_the_standard_names_in_any_case(
    monkeypatch: pytest.MonkeyPatch, given: str, level: str
) -> None:
    monkeypatch.setenv("LOG_LEVEL", given)
    assert Settings(_env_file=None).log_level == level


@pytest.mark.parametrize("level", ["LOUD", "", "5"])
def test_an_unknown_log_level_is_refused(monkeypatch: pytest.MonkeyPatch, level: str) -> None:
    monkeypatch.setenv("LOG_LEVEL", level)
    with pytest.raises(ValueError, match="log_level"):
        Settings(_env_file=None)


def test_hosting_outside_serve_requires_redis(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("REDIS_URL", raising=False)
    with pytest.raises(ConfigurationError, match="agenthub worker needs REDIS_URL"):
        Settings(_env_file=None).require_redis("worker")
    assert Settings(_env_file=None, redis_url="redis://cache/0").require_redis("runner") == "redis://cache/0"


@pytest.mark.parametrize(
    ("url", "shown"),
    [
        ("redis://127.0.0.1:6379/0", "redis://127.0.0.1:6379/0"),
        ("redis://user:s3cret@cache:6379/0", "redis://user:***@cache:6379/0"),
        ("rediss://:s3cret@cache/1", "rediss://:***@cache/1"),
        ("redis://s3cret@cache", "redis://***@cache"),
        ("redis://a:s3c@ret@cache:1/0", "redis://a:***@cache:1/0"),
        ("unix:///run/redis.sock?db=0&password=s3cret", "unix:///run/redis.sock?db=0&password=***"),
    ],
)
def test_mask_url_hides_credentials(url: str, shown: str) -> None:
    assert mask_url(url) == shown


@pytest.mark.parametrize("url", ["notaurl", "http://127.0.0.1:6379/0", "127.0.0.1:6379"])
def test_a_redis_url_without_a_redis_scheme_is_refused(monkeypatch: pytest.MonkeyPatch, url: str) -> None:
    monkeypatch.setenv("REDIS_URL", url)
    with pytest.raises(ValidationError, match="redis://"):
        Settings(_env_file=None)


@pytest.mark.postgres
async def test_a_postgres_url_with_libpq_sslmode_works(postgres_url: str) -> None:
    """``?sslmode=`` is what people copy from libpq and hosting dashboards; asyncpg calls
    it ``ssl``."""
    from sqlalchemy import text

    from agenthub.db.engine import create_engine

    plain = postgres_url.replace("postgresql+asyncpg://", "postgresql://", 1)
    engine = create_engine(normalise_database_url(f"{plain}?sslmode=disable"))
    try:
        async with engine.connect() as connection:
            assert (await connection.execute(text("SELECT 1"))).scalar() == 1
    finally:
        await engine.dispose()


def test_without_an_openai_key_or_endpoint_embeddings_are_offline_unless_named() -> None:
    assert Settings(_env_file=None).embedding_model == "fake"
    assert Settings(_env_file=None, openai_api_key="sk-x").embedding_model == "text-embedding-3-small"
    assert Settings(_env_file=None, openai_base_url="http://127.0.0.1:9/v1").embedding_model == "text-embedding-3-small"
    assert Settings(_env_file=None, embedding_model="nomic").embedding_model == "nomic"
