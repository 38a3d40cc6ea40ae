"""What ``serve``, ``migrate``, ``runner`` and ``worker`` check before they start, and how a
database's refusal is put in one line. The CLI shows a :class:`StartupError` as its message
alone, with the error's exit code."""

from __future__ import annotations

import contextlib
import errno
import os
import shutil
import socket
from pathlib import Path

from agenthub.config import Settings, mask_url
from agenthub.errors import AgentHubError

SUPPORTED_DATABASES = ("sqlite", "postgresql")


class StartupError(AgentHubError):
    """A reason not to start, said in one line; ``exit_code`` is the exit code (2: the
    configuration is wrong, 1: a service is)."""

    def __init__(self, message: str, *, exit_code: int = 1) -> None:
        super().__init__(message)
        self.exit_code = exit_code


async def check_bus(settings: Settings) -> None:
    """Open the bus, make sure it answers, close it."""
    from agenthub.bus import StreamRetention, open_bus
    from agenthub.readiness import prepare_bus

    retention = StreamRetention(settings.stream_retention_seconds, settings.stream_max_length)
    bus = open_bus(settings.redis_url, prefix=settings.redis_key_prefix, retention=retention)
    try:
        await prepare_bus(settings, bus)
    except AgentHubError as error:
        raise StartupError(error.message) from None
    finally:
        await bus.close()


def shown_database_url(settings: Settings) -> str:
    return mask_url(settings.database_url or settings.effective_database_url)


def check_database_url(settings: Settings) -> None:
    """Refuse a database URL AgentHub can't open: one it can't parse, a database it doesn't
    support, a driver that isn't installed. Connects to nothing."""
    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import ArgumentError, InvalidRequestError

    from agenthub.db.engine import create_engine

    shown = shown_database_url(settings)
    try:
        backend = make_url(settings.effective_database_url).get_backend_name()
    except (ArgumentError, ValueError) as error:
        raise StartupError(f"Invalid database URL {shown}: {error}", exit_code=2) from None
    if backend not in SUPPORTED_DATABASES:
        raise StartupError(
            f"The database URL {shown} is not supported: AgentHub supports SQLite and PostgreSQL", exit_code=2
        )
    try:
        engine = create_engine(settings.effective_database_url, pool_size=1)  # imports the driver
    except ImportError as error:
        message = f"Cannot use the database at {shown}: its driver is not installed ({error})"
        raise StartupError(message, exit_code=2) from None
    except (ArgumentError, InvalidRequestError, ValueError, OSError) as error:
        raise StartupError(f"Cannot use the database at {shown}: {error}", exit_code=2) from None
    engine.sync_engine.dispose()


async def ping_database(settings: Settings) -> None:
    """Connect once: what `runner` and `worker` do before they start (`serve` and `migrate`
    open the database to check or upgrade its schema anyway)."""
    from sqlalchemy import text

    from agenthub.db.engine import create_engine

    engine = create_engine(settings.effective_database_url, pool_size=1)
    try:
        async with engine.connect() as connection:
            await connection.execute(text("SELECT 1"))
    finally:
        await engine.dispose()


def database_failure(error: BaseException, settings: Settings) -> str | None:
    """One line for an error that comes from the database (unreachable, refusing the role
    or the database name, failing a statement); None for anything else, a bug included."""
    from asyncpg import PostgresError
    from sqlalchemy.exc import DBAPIError

    shown = shown_database_url(settings)
    if isinstance(error, DBAPIError):
        cause = error.orig if error.orig is not None else error
        return f"Cannot use the database at {shown}: {one_line(cause)}"
    if isinstance(error, PostgresError):
        return f"Cannot use the database at {shown}: {one_line(error)}"
    if isinstance(error, OSError):  # refused, unreachable, timed out
        return f"Cannot reach the database at {shown}: {one_line(error)}"
    return None


def one_line(error: BaseException) -> str:
    return " ".join(str(error).split()) or type(error).__name__


def bind_port(host: str, port: int) -> socket.socket:
    """A listening socket on ``host``:``port``, for ``serve`` to hand to the server; a port
    already in use is a :class:`StartupError` naming how to pick another."""
    try:
        family, kind, proto, _name, address = socket.getaddrinfo(
            host, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE
        )[0]
    except socket.gaierror as error:
        raise StartupError(f"Cannot listen on {host}: {error.strerror}; check --host or MANAGER_HOST", exit_code=2) from None
    listener = socket.socket(family, kind, proto)
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        listener.bind(address)
        listener.listen(2048)
    except OSError as error:
        listener.close()
        if error.errno == errno.EADDRINUSE:
            raise StartupError(
                f"Port {port} on {host} is already in use (another AgentHub?): "
                "choose another with --port or MANAGER_PORT."
            ) from None
        raise StartupError(f"Cannot listen on {host}:{port}: {error.strerror or error}") from None
    listener.set_inheritable(True)
    return listener


def database_shown_to_people(settings: Settings) -> str:
    """Which database is used, for the start-up line: the SQLite file's absolute path (a
    relative ``DATA_DIR`` depends on the folder ``serve`` was started in), else the URL
    without its password."""
    from sqlalchemy.engine import make_url

    if settings.uses_sqlite:
        database = make_url(settings.effective_database_url).database or ""
        if database and database != ":memory:":
            return f"SQLite file {Path(database).resolve()}"
        return "SQLite in memory"
    return shown_database_url(settings)


def cli_command(script: str, *, search_path: str | None, cwd: str) -> str:
    """How the user can run this CLI again: ``agenthub`` when that name, looked up on
    ``search_path`` (``PATH``), is ``script``; else the script's path, relative to ``cwd``
    when it lies below it (``.venv/bin/agenthub`` for a virtualenv not activated)."""
    if not Path(script).name.startswith("agenthub"):  # not the console script (python -c, a test)
        return "agenthub"
    found = shutil.which("agenthub", path=search_path)
    with contextlib.suppress(OSError):
        if found and os.path.samefile(found, script):
            return "agenthub"
    absolute = Path(script).absolute()
    try:
        return str(absolute.relative_to(Path(cwd).absolute()))
    except ValueError:
        return str(absolute)


def ready_line(settings: Settings, *, host: str, port: int, command: str = "agenthub") -> str:
    """What ``serve`` says once it is ready: where to open the console, the docs and chat (``command``
    is how the user runs the CLI, see :func:`cli_command`), which database it uses, how to
    stop it."""
    shown_host = "127.0.0.1" if host in ("0.0.0.0", "::", "") else host
    if ":" in shown_host:
        shown_host = f"[{shown_host}]"
    base = f"http://{shown_host}:{port}"
    chat = f"{command} chat demo" if settings.demo_agent else f"{command} chat AGENT_ID"
    if port != 8001:
        chat += f" --api-url {base}"
    return (
        f"AgentHub is ready. Console: {base}/ (log in there and chat); API docs: {base}/docs; chat: `{chat}` or {base.replace('http', 'ws', 1)}"
        f"/ws/agents/AGENT_ID. Database: {database_shown_to_people(settings)}. Bus: "
        f"{'in-process' if settings.embedded else mask_url(settings.redis_url or '')}. Press Ctrl-C to stop."
    )


def first_owner_line(email: str | None, password: str) -> str:
    """What ``serve`` prints once, on the console, when it generated the first owner's password."""
    return (
        f"First start: log in as {email or 'admin@localhost'} with password {password} (shown only this "
        f"once: keep it somewhere safe; `agenthub login` logs the CLI in). Set ADMIN_EMAIL and "
        f"ADMIN_PASSWORD before the first start to choose them instead."
    )
