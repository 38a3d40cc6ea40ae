"""Settings: one object, read once at an entry point and passed down.

Names follow the seed designs (``DATABASE_URL``, ``REDIS_URL``, ``MANAGER_PORT``, ...).
Leaving ``DATABASE_URL`` and ``REDIS_URL`` unset selects the embedded defaults: a SQLite
file and the in-process bus.
"""

from __future__ import annotations

from pathlib import Path

from pydantic import Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

DEFAULT_DATA_DIR = Path("data")


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_file=".env", extra="ignore", case_sensitive=False)

    database_url: str | None = Field(default=None, description="SQLAlchemy URL; unset = SQLite")
    redis_url: str | None = Field(default=None, description="Redis URL; unset = in-process bus")
    redis_key_prefix: str = Field(default="", description="Prefix for every Redis key")
    data_dir: Path = Field(default=DEFAULT_DATA_DIR, description="Where the SQLite file lives")

    manager_host: str = "127.0.0.1"
    manager_port: int = Field(default=8001, ge=1, le=65535)

    openai_api_key: SecretStr | None = None
    openrouter_api_key: SecretStr | None = None

    agent_inactivity_timeout: float = Field(default=1800.0, gt=0)
    agent_inactivity_check_interval: float = Field(default=300.0, gt=0)
    process_check_interval: float = Field(default=2.0, gt=0)
    max_restart_attempts: int = Field(default=5, ge=0)
    agent_runner_heartbeat_interval: float = Field(default=5.0, gt=0)
    restart_backoff_base: float = Field(default=0.5, gt=0)
    restart_backoff_max: float = Field(default=30.0, gt=0)
    stop_grace_period: float = Field(default=5.0, ge=0)
    turn_timeout: float = Field(default=120.0, gt=0)
    agent_context_messages: int = Field(default=40, ge=1, le=1000)
    max_concurrent_turns: int = Field(default=256, ge=1)

    # Read now under the seed names so deployments can set them; the features that use
    # them (Telegram, e-mail, knowledge, encrypted credentials, budgets) come later.
    telegram_bot_token: SecretStr | None = None
    telegram_api_base_url: str | None = None
    public_url: str | None = None
    qdrant_url: str | None = None
    qdrant_collection: str | None = None
    secret_box_key: SecretStr | None = None
    user_default_budget: float | None = Field(default=None, ge=0)
    user_budget_duration: str | None = None
    smtp_host: str | None = None
    smtp_port: int = Field(default=587, ge=1, le=65535)
    smtp_user: str | None = None
    smtp_password: SecretStr | None = None
    smtp_from: str | None = None
    smtp_tls: bool = True
    outbound_allowlist: str = Field(default="", description="Hosts or CIDRs, comma-separated")

    demo_agent: bool = Field(default=True, description="Create the demo agent on first start")
    log_level: str = "INFO"
    log_json: bool = True

    @field_validator("database_url", "redis_url", mode="before")
    @classmethod
    def _blank_is_unset(cls, value: object) -> object:
        return None if isinstance(value, str) and not value.strip() else value

    @property
    def embedded(self) -> bool:
        """True when the bus is in-process: every agent then runs inside this process."""
        return self.redis_url is None

    @property
    def effective_database_url(self) -> str:
        if self.database_url:
            return normalise_database_url(self.database_url)
        return f"sqlite+aiosqlite:///{(self.data_dir / 'agenthub.db').as_posix()}"

    @property
    def uses_sqlite(self) -> bool:
        return self.effective_database_url.startswith("sqlite")

    @property
    def heartbeat_stale_after(self) -> float:
        """A host whose heartbeat is older than this is considered dead."""
        return self.agent_runner_heartbeat_interval * 3 + 1.0


def normalise_database_url(url: str) -> str:
    """Accept the plain scheme people paste and pick the async driver for it."""
    for plain, driver in (
        ("postgresql://", "postgresql+asyncpg://"),
        ("postgres://", "postgresql+asyncpg://"),
        ("sqlite://", "sqlite+aiosqlite://"),
    ):
        if url.startswith(plain):
            return driver + url[len(plain):]
    return url
