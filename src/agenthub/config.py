"""Settings: one object, read once at an entry point and passed down.

Names follow the seed designs (``DATABASE_URL``, ``REDIS_URL``, ``MANAGER_PORT``, ...).
Leaving ``DATABASE_URL`` and ``REDIS_URL`` unset selects the embedded defaults: a SQLite
file and the in-process bus.
"""

from __future__ import annotations

import base64
import binascii
import re
from decimal import Decimal
from pathlib import Path
from typing import Literal
from urllib.parse import urlsplit

from pydantic import AliasChoices, Field, SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from agenthub.errors import AgentHubError

DEFAULT_DATA_DIR = Path("data")
LogLevel = Literal["DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"]
BUDGET_DURATION_PATTERN = r"^[1-9][0-9]{0,3}(s|m|h|d|w|mo)$"
"""A budget's period: a count and a unit (``30s``, ``15m``, ``12h``, ``1d``, ``1w``, ``1mo``)."""
MAX_BUDGET = Decimal("9999999999")
DEFAULT_FILE_TYPES = (
    "image/png,image/jpeg,image/gif,image/webp,application/pdf,text/plain,text/csv,text/markdown,application/json,"
    "audio/*,video/*,application/zip,application/octet-stream,application/msword,application/vnd.ms-excel,"
    "application/vnd.openxmlformats-officedocument.*,application/vnd.oasis.opendocument.*"
)
"""FILES_ALLOWED_TYPES by default: files people attach, nothing a browser runs (HTML, SVG, scripts)."""


class ConfigurationError(AgentHubError, ValueError):
    """Settings that are valid in themselves but not for what was asked of them."""


class Settings(BaseSettings):
    # hide_input_in_errors: a refused value (a key, a URL with its password) is never repeated in an error.
    model_config = SettingsConfigDict(
        env_file=".env", extra="ignore", case_sensitive=False, hide_input_in_errors=True
    )

    database_url: str | None = Field(default=None, description="SQLAlchemy URL; unset = SQLite")
    redis_url: str | None = Field(default=None, description="Redis URL; unset = in-process bus")
    redis_key_prefix: str = Field(default="", description="Prefix for every Redis key")
    data_dir: Path = Field(default=DEFAULT_DATA_DIR, description="Where the SQLite file lives")

    manager_host: str = "127.0.0.1"
    manager_port: int = Field(default=8001, ge=1, le=65535)
    root_path: str = Field(
        default="",
        description="The path prefix a reverse proxy serves AgentHub under and strips (/web); links, redirects "
        "and the API docs carry it. Empty: served at the root",
    )

    openai_api_key: SecretStr | None = None
    openai_base_url: str | None = Field(
        default=None,
        description="Where the `openai` provider's calls go instead of https://api.openai.com/v1 (a proxy of the "
        "operator's); OPENAI_API_KEY is sent only to OpenAI's own API and to this address",
    )
    openrouter_api_key: SecretStr | None = None

    agent_inactivity_timeout: float = Field(default=1800.0, gt=0)
    agent_inactivity_check_interval: float = Field(default=300.0, gt=0)
    process_check_interval: float = Field(default=2.0, gt=0)
    max_restart_attempts: int = Field(default=5, ge=0)
    agent_runner_heartbeat_interval: float = Field(default=5.0, gt=0)
    restart_backoff_base: float = Field(default=0.5, gt=0)
    restart_backoff_max: float = Field(default=30.0, gt=0)
    restarts_reset_after: float = Field(
        default=60.0, gt=0, description="Seconds an agent runs without a crash before its restart count is 0 again"
    )
    agent_error_cooldown: float = Field(
        default=600.0, ge=0,
        description="Seconds an agent stays in 'error' before a message may start it again; 0: only a start does",
    )
    stop_grace_period: float = Field(default=5.0, ge=0)
    turn_timeout: float = Field(default=120.0, gt=0)
    agent_context_messages: int = Field(default=40, ge=1, le=1000)
    scenario_max_steps: int = Field(
        default=50, ge=1, le=10_000, description="Steps a scenario bot may take for one incoming message (loop guard)"
    )
    max_concurrent_turns: int = Field(default=256, ge=1)
    deleted_retention_days: float = Field(
        default=30.0, ge=0, description="Days a deleted agent's id stays taken before it is purged with its chats"
    )

    queue_max_deliveries: int = Field(
        default=5, ge=1, description="Deliveries of a queue entry that fails before it goes to dead letters"
    )
    stream_retention_seconds: float = Field(
        default=3600.0, ge=0,
        description="Seconds a bus stream keeps entries every consumer group has acknowledged; 0 = until the "
        "length limit",
    )
    stream_max_length: int = Field(
        default=1_000_000, ge=0, description="Entries a bus stream keeps at most (about), read or not; 0 = no limit"
    )
    recovery_window: float = Field(
        default=86400.0, ge=0,
        # EMBEDDED_RECOVERY_WINDOW: its name when only the embedded mode recovered.
        validation_alias=AliasChoices("recovery_window", "embedded_recovery_window"),
        description="Seconds: messages stored this recently and left unanswered when the server stopped are "
        "answered after its next start (each taken up once at most); 0 = none",
    )

    # The code sandbox (code steps of scenario bots; docs/sandbox.md).
    sandbox_pool_size: int = Field(
        default=4, ge=1, le=256, description="Warm sandboxed processes, and runs at once, per AgentHub process"
    )
    sandbox_user: str = Field(
        default="nobody", description="The unprivileged user runs take when AgentHub runs as root"
    )
    sandbox_bubblewrap: Literal["auto", "on", "off"] = Field(
        default="auto", description="Run the sandbox in a bubblewrap jail: where bwrap is installed (auto), "
        "always (on: refuse to start without it) or never"
    )
    sandbox_required_layers: str = Field(
        default="", description="Comma-separated layers the sandbox must have or refuse to run "
        "(seccomp, landlock, bubblewrap, unprivileged_user, private_tmpfs)"
    )
    sandbox_max_wall_seconds: float = Field(default=30.0, gt=0, le=3600, description="Most wall-clock time a run may ask for")
    sandbox_max_cpu_seconds: float = Field(default=10.0, gt=0, le=3600, description="Most CPU time a run may ask for")
    sandbox_max_memory_mb: int = Field(default=1024, ge=16, le=65536, description="Most memory (MB) a run may ask for")
    sandbox_max_output_bytes: int = Field(default=8 * 1024 * 1024, ge=1024, description="Most output a run may ask for")
    sandbox_max_result_bytes: int = Field(default=8 * 1024 * 1024, ge=1024, description="Largest value a run may return")
    sandbox_tmp_mb: int = Field(default=16, ge=1, le=4096, description="Size of each run's private temporary folder (MB)")

    # Channels: Telegram, e-mail, notifications and the scheduler.
    telegram_bot_token: SecretStr | None = Field(
        default=None, description="The platform's own bot: notifications to users' Telegram channels"
    )
    telegram_api_base_url: str | None = Field(
        default=None, description="The Bot API root (Telegram's self-hosted Bot API server, or a local fake in "
        "tests); unset: Telegram's own"
    )
    public_url: str | None = Field(
        default=None, description="Where the internet reaches this AgentHub (Telegram webhooks are registered there)"
    )
    smtp_host: str | None = Field(default=None, description="SMTP server for e-mail notifications; unset: no e-mail")
    smtp_port: int = Field(default=587, ge=1, le=65535)
    smtp_user: str | None = None
    smtp_password: SecretStr | None = None
    smtp_from: str | None = Field(default=None, description="The From address of notification e-mails")
    smtp_tls: bool = Field(default=True, description="STARTTLS (or TLS on port 465); false: plain SMTP")
    scheduler_interval: float = Field(
        default=5.0, gt=0, le=3600, description="Seconds between the scheduler's looks for due events"
    )
    notification_max_attempts: int = Field(
        default=5, ge=1, le=100, description="Attempts of one notification delivery before it is failed"
    )
    notification_retry_base: float = Field(
        default=2.0, gt=0, le=3600, description="Seconds before the first retry of a delivery; doubled each time"
    )
    qdrant_url: str | None = Field(
        default=None, description="Qdrant for knowledge-base vectors; unset: an index kept under DATA_DIR"
    )
    qdrant_collection: str | None = Field(default=None, description="Qdrant collection name (default: agenthub_chunks)")

    # Agent intelligence: tools, roles, memory, knowledge, tracing.
    tavily_api_key: SecretStr | None = Field(default=None, description="Tavily key of the `web_search` tool")
    tavily_base_url: str = Field(default="https://api.tavily.com", description="Where `web_search` calls Tavily")
    roles_dir: Path | None = Field(
        default=None, description="A folder of role files (<name>.md) adding to or overriding the shipped roles"
    )
    embedding_model: str = Field(
        default="text-embedding-3-small",
        description="Embedding model of knowledge bases that name none, and of archival memory (`fake`: offline); "
        "unset and with neither OPENAI_API_KEY nor OPENAI_BASE_URL: `fake`",
    )
    # Files (attachments, request files): DATA_DIR/files, or S3-compatible storage with S3_BUCKET.
    s3_bucket: str | None = Field(default=None, description="Keep files in this S3 bucket; unset: under DATA_DIR/files")
    s3_endpoint_url: str | None = Field(default=None, description="An S3-compatible server (MinIO...); unset: AWS")
    aws_region: str | None = Field(default=None, description="The S3 bucket's region (else AWS_DEFAULT_REGION)")
    files_max_bytes: int = Field(default=20 * 1024 * 1024, ge=1, le=5 * 1024**3, description="Largest upload (bytes)")
    files_allowed_types: str = Field(
        default=DEFAULT_FILE_TYPES, description="Media types an upload may have, comma-separated (`image/*` for a "
        "family, `*` for any)",
    )
    knowledge_max_upload_mb: int = Field(default=20, ge=1, le=1024, description="Largest document upload (MB)")
    langsmith_api_key: SecretStr | None = Field(default=None, description="Send LangChain traces to LangSmith")
    langsmith_project: str | None = Field(default=None, description="LangSmith project of the traces")
    otel_exporter_otlp_endpoint: str | None = Field(
        default=None, description="OTLP/HTTP endpoint for OpenTelemetry spans of turns, model and tool calls"
    )
    otel_service_name: str = Field(default="agenthub", description="service.name of the spans")
    secret_box_key: SecretStr | None = None
    user_default_budget: Decimal | None = Field(
        default=None, ge=0, le=MAX_BUDGET, allow_inf_nan=False,
        description="USD each user (and each end user of a public agent) may spend per period, unless an admin "
        "sets their budget; unset: no limit",
    )
    user_budget_duration: str | None = Field(
        default=None, pattern=BUDGET_DURATION_PATTERN,
        description="The period of USER_DEFAULT_BUDGET (30s, 15m, 12h, 1d, 1w, 1mo); unset: it never resets",
    )
    prices_file: Path | None = Field(
        default=None, description="JSON or TOML file of prices per model, over the shipped ones"
    )
    outbound_allowlist: str = Field(default="", description="Hosts or CIDRs, comma-separated")

    allowed_origins: str = Field(
        default="",
        description="Web origins (https://app.example.com), comma-separated, whose pages may use the API and "
        "the WebSocket besides AgentHub's own; * for any",
    )

    allowed_hosts: str = Field(
        default="",
        description="Host names (or host:port) requests may be addressed to, comma-separated; unset: the loopback "
        "names, MANAGER_HOST and the host of PUBLIC_URL; * for any (a proxy in front checks Host)",
    )
    sse_keepalive_interval: float = Field(
        default=15.0, gt=0, description="Seconds without an event after which an SSE stream gets a keep-alive comment"
    )
    ws_max_connections_per_client: int = Field(
        default=100, ge=1, description="WebSockets one client address may hold open at once"
    )
    ws_idle_timeout: float = Field(
        default=600.0, gt=0,
        description="Seconds a WebSocket may go without sending a complete message while no answer is awaited",
    )

    jwt_secret: SecretStr | None = Field(
        default=None, description="Key that signs access tokens; unset: one made on first start, kept in the database"
    )
    access_token_expire_minutes: float = Field(default=15.0, gt=0, description="Minutes an access token is valid")
    refresh_token_expire_days: float = Field(default=30.0, gt=0, description="Days a login's refresh token is valid")
    registration: Literal["open", "closed"] = Field(
        default="open", description="open: anyone may register a new organisation; closed: only with an invitation"
    )
    admin_email: str | None = Field(
        default=None, description="E-mail of the default organisation's owner, created on first start"
    )
    admin_password: SecretStr | None = Field(
        default=None, description="That owner's password; unset: one is generated and printed once"
    )
    admin_panel: bool = Field(
        default=True, description="Serve the operators' admin panel at /admin (owners and admins sign in there)"
    )
    admin_panel_secret: SecretStr | None = Field(
        default=None, min_length=32,
        description="Key that signs the admin panel's session cookie; unset: derived from the token signing key",
    )
    argon2_time_cost: int = Field(default=3, ge=1, le=100, description="Argon2 passes over memory per password hash")
    argon2_memory_kib: int = Field(
        default=65536, ge=64, le=4_194_304, description="KiB of memory each password hash uses (Argon2)"
    )
    argon2_parallelism: int = Field(default=4, ge=1, le=64, description="Argon2 lanes per password hash")
    metrics_token: SecretStr | None = Field(
        default=None, description="Bearer token that may read /metrics besides an owner's or admin's"
    )
    rate_limit_per_minute: int = Field(
        default=600, ge=0, description="Requests a minute each user and each API key may make; 0 = no limit"
    )
    rate_limit_anonymous_per_minute: int = Field(
        default=60, ge=0,
        description="Requests a minute each client address may make without (valid) credentials; 0 = no limit",
    )

    demo_agent: bool = Field(default=True, description="Create the demo agent on first start")
    log_level: LogLevel = Field(default="INFO", description="debug | info | warning | error | critical")
    log_json: Literal["auto"] | bool = Field(
        default="auto", description="true | false | auto (JSON unless the logs go to a terminal)"
    )

    @field_validator(
        "database_url", "redis_url", "openai_base_url", "user_default_budget", "user_budget_duration", "prices_file",
        "s3_bucket", "s3_endpoint_url", mode="before",
    )
    @classmethod
    def _blank_is_unset(cls, value: object) -> object:
        return None if isinstance(value, str) and not value.strip() else value

    @model_validator(mode="after")
    def _offline_embeddings(self) -> Settings:
        """With neither ``OPENAI_API_KEY`` nor ``OPENAI_BASE_URL`` nothing could make embeddings
        with OpenAI's model: unless ``EMBEDDING_MODEL`` names one, knowledge bases and archival
        memory embed offline (``fake``; keyword search carries their retrieval), so the
        quick start's uploads work. A knowledge base keeps the model it was made with."""
        if "embedding_model" not in self.model_fields_set and self.openai_api_key is None and not self.openai_base_url:
            self.embedding_model = "fake"
        return self

    @field_validator("redis_url")
    @classmethod
    def _redis_scheme(cls, value: str | None) -> str | None:
        if value is not None and not value.startswith(("redis://", "rediss://", "unix://")):
            raise ValueError("must start with redis://, rediss:// or unix://")
        return value

    @field_validator("openai_base_url", "s3_endpoint_url")
    @classmethod
    def _http_url(cls, value: str | None) -> str | None:
        if value is None:
            return None
        parts = urlsplit(value.strip())
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValueError("must be an http:// or https:// URL")
        return value.strip().rstrip("/")

    @field_validator("secret_box_key")
    @classmethod
    def _box_key(cls, value: SecretStr | None) -> SecretStr | None:
        if value is not None:
            decode_secret_box_key(value.get_secret_value())  # its words name no part of the value
        return value

    @field_validator("root_path", mode="before")
    @classmethod
    def _path_prefix(cls, value: object) -> object:
        if not isinstance(value, str):
            return value
        prefix = value.strip().rstrip("/")
        if prefix and (not prefix.startswith("/") or not _ROOT_PATH.fullmatch(prefix)):
            raise ValueError(
                "must be a path that starts with / (such as /web), of letters, digits and - . _ ~ / only"
            )
        return prefix

    @field_validator("log_level", mode="before")
    @classmethod
    def _level_in_any_case(cls, value: object) -> object:
        return value.strip().upper() if isinstance(value, str) else value

    @property
    def origins(self) -> frozenset[str]:
        """``ALLOWED_ORIGINS`` as a set, each origin without a trailing slash, in lower case."""
        return frozenset(o.strip().rstrip("/").lower() for o in self.allowed_origins.split(",") if o.strip())

    @property
    def hosts(self) -> frozenset[str]:
        """``ALLOWED_HOSTS`` in lower case; unset, the names this server is reached by on its
        own: the loopback names, ``MANAGER_HOST`` and the host of ``PUBLIC_URL``."""
        if self.allowed_hosts.strip():
            return frozenset(h.strip().lower() for h in self.allowed_hosts.split(",") if h.strip())
        names = {"localhost", "127.0.0.1", "::1", "[::1]", self.manager_host.strip().lower()}
        if self.public_url:
            public = urlsplit(self.public_url.strip()).hostname
            if public:
                names.add(public.lower())
        return frozenset(names)

    @property
    def public_base_url(self) -> str | None:
        """``PUBLIC_URL`` with the ``ROOT_PATH`` prefix (once, whether ``PUBLIC_URL`` ends with
        it or not), without a trailing slash: what absolute links to this server start with.
        None without ``PUBLIC_URL``."""
        if not self.public_url:
            return None
        base = self.public_url.strip().rstrip("/")
        if self.root_path and not urlsplit(base).path.endswith(self.root_path):
            base += self.root_path
        return base

    @property
    def embedded(self) -> bool:
        """True when the bus is in-process: every agent then runs inside this process."""
        return self.redis_url is None

    def require_redis(self, command: str) -> str:
        """``REDIS_URL``, for a command that hosts agents in a process of its own: on an
        in-process bus nobody else could reach them."""
        if self.redis_url is None:
            raise ConfigurationError(
                f"agenthub {command} needs REDIS_URL: in the embedded mode agents run inside `agenthub serve`."
            )
        return self.redis_url

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


SECRET_BOX_KEY_BYTES = 32


def decode_secret_box_key(text: str) -> bytes:
    """The 32 bytes of a ``SECRET_BOX_KEY`` written in standard base64; ValueError saying
    what is wrong (never showing the value) for anything else."""
    try:
        key = base64.b64decode(text.strip(), validate=True)
    except (binascii.Error, ValueError):
        raise ValueError(
            "must be standard base64 (A-Z, a-z, 0-9, +, / and = padding) of 32 random bytes, "
            "such as `openssl rand -base64 32` prints"
        ) from None
    if len(key) != SECRET_BOX_KEY_BYTES:
        raise ValueError(
            f"must be 32 random bytes in standard base64 (44 characters, such as `openssl rand -base64 32` "
            f"prints); this one is {len(key)} bytes"
        )
    return key


def normalise_database_url(url: str) -> str:
    """Accept the plain scheme people paste and pick the async driver for it. libpq's
    ``sslmode`` parameter is asyncpg's ``ssl`` (same values: disable ... verify-full)."""
    for plain, driver in (
        ("postgresql://", "postgresql+asyncpg://"),
        ("postgres://", "postgresql+asyncpg://"),
        ("sqlite://", "sqlite+aiosqlite://"),
    ):
        if url.startswith(plain):
            url = driver + url[len(plain):]
            break
    if url.startswith("postgresql+asyncpg://"):
        url = _SSLMODE.sub(r"\1ssl=", url)
    return url


_SSLMODE = re.compile(r"([?&])sslmode=")
_ROOT_PATH = re.compile(r"(/(?!\.\.?(?:/|$))[A-Za-z0-9._~-]+)+")
"""A path prefix (``ROOT_PATH``): segments of URL-safe characters, none of them ``.`` or ``..``."""


_URL = re.compile(r"(?P<scheme>[A-Za-z][A-Za-z0-9+.-]*://)(?P<authority>[^/?#]*)(?P<rest>.*)", re.DOTALL)
_PASSWORD_PARAMETER = re.compile(r"(?i)([?&]password=)[^&#]*")


def mask_url(url: str) -> str:
    """``url`` fit for a message: the password (in the user part or a ``password=``
    parameter) replaced by ``***``; a user part without a password is masked whole, in
    case it is one."""
    match = _URL.fullmatch(url)
    if match is None:
        return _PASSWORD_PARAMETER.sub(r"\1***", url)
    userinfo, at, host = match["authority"].rpartition("@")
    authority = match["authority"]
    if at:
        user, colon, _password = userinfo.partition(":")
        authority = f"{user}:***@{host}" if colon else f"***@{host}"
    return match["scheme"] + authority + _PASSWORD_PARAMETER.sub(r"\1***", match["rest"])
