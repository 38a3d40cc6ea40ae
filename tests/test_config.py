"""Settings come from the environment under the seed names."""

from __future__ import annotations

import pytest

from agenthub.config import Settings


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
