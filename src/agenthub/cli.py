"""``agenthub``: serve, migrate, runner, worker, agents ..., chat, sandbox ... (cli_sandbox.py), health (cli_health.py)."""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import math
import os
import sys
from collections.abc import Coroutine, Iterator, Sequence
from typing import Annotated, Any
from urllib.parse import urlsplit

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Column, Table
from typer.core import TyperCommand, TyperGroup

from agenthub import cli_health, cli_sandbox, startup
from agenthub.cli_output import console, err
from agenthub.cli_output import fail as _fail
from agenthub.cli_output import read_settings as _settings
from agenthub.config import ConfigurationError, Settings, mask_url
from agenthub.startup import StartupError


def _without_flag_types(params: list[Any]) -> list[Any]:
    for param in params:
        if getattr(param, "is_flag", False):
            param.metavar = ""  # a flag takes no value: no ``<bool>`` next to it in --help
    return params


class _Command(TyperCommand):
    def get_params(self, ctx: Any) -> list[Any]:
        return _without_flag_types(super().get_params(ctx))


class _Group(TyperGroup):
    def get_params(self, ctx: Any) -> list[Any]:
        return _without_flag_types(super().get_params(ctx))


app = typer.Typer(cls=_Group, help="AgentHub: host AI agents and talk to them.", no_args_is_help=True)
agents_app = typer.Typer(cls=_Group, help="Manage agents through a running AgentHub.", no_args_is_help=True)
app.add_typer(agents_app, name="agents")
queues_app = typer.Typer(cls=_Group, help="Inspect the storage queues of a running AgentHub.", no_args_is_help=True)
app.add_typer(queues_app, name="queues")
credentials_app = typer.Typer(cls=_Group, help="Manage the key credentials are encrypted with.", no_args_is_help=True)
app.add_typer(credentials_app, name="credentials")
sandbox_app = typer.Typer(cls=_Group, help=cli_sandbox.HELP, no_args_is_help=True)
app.add_typer(sandbox_app, name="sandbox")
sandbox_app.command("check", cls=_Command)(cli_sandbox.check)
sandbox_app.command("run", cls=_Command)(cli_sandbox.run)

ApiUrl = Annotated[
    str | None,
    typer.Option("--api-url", help="AgentHub's address", show_default="http://127.0.0.1:MANAGER_PORT"),
]
AgentId = Annotated[str, typer.Argument(metavar="AGENT_ID", help="The agent's id", show_default=False)]


@contextlib.contextmanager
def _failing_in_one_line(settings: Settings) -> Iterator[None]:
    """What stops a command from starting (a setting, a check, what the database says) is
    one line and an exit code; anything else, a bug included, keeps its traceback."""
    from agenthub.errors import AgentHubError

    try:
        yield
    except ConfigurationError as error:
        _fail(str(error), code=2)
    except StartupError as error:
        _fail(str(error), code=error.exit_code)
    except AgentHubError as error:
        _fail(error.message)
    except Exception as error:
        if (failure := startup.database_failure(error, settings)) is None:
            raise
        _fail(failure)


def _require_bus(settings: Settings) -> None:
    with _failing_in_one_line(settings):
        asyncio.run(startup.check_bus(settings))


def _require_database_url(settings: Settings) -> None:
    with _failing_in_one_line(settings):
        startup.check_database_url(settings)


def _database_run(main: Coroutine[Any, Any, Any], settings: Settings) -> Any:
    """``asyncio.run(main)``; what the database says to stop it is one line."""
    with _failing_in_one_line(settings):
        return asyncio.run(main)


def _host(main: Coroutine[Any, Any, int | None], settings: Settings) -> int:
    """Run a runner or a worker until it stops; what keeps it from starting is one line."""
    from agenthub.runtime import loop as event_loop

    with _failing_in_one_line(settings):
        return event_loop.run(main) or 0


@app.command(cls=_Command)
def serve(
    host: Annotated[str | None, typer.Option(help="Address to listen on", show_default="MANAGER_HOST")] = None,
    port: Annotated[
        int | None, typer.Option(help="Port to listen on", show_default="MANAGER_PORT", min=1, max=65535)
    ] = None,
) -> None:
    """Run AgentHub: the gateway, the supervisor and the workers.

    Without DATABASE_URL and REDIS_URL it needs nothing else: a SQLite file and an in-process bus.
    """
    settings = _settings()  # a bad setting is one line at once, before the app is imported
    host, port = host or settings.manager_host, port or settings.manager_port
    with _failing_in_one_line(settings):
        listener = startup.bind_port(host, port)  # a busy port is one line, before anything else
    _require_database_url(settings)

    from agenthub.credentials.secret_box import load_box
    from agenthub.db.engine import create_engine
    from agenthub.ops.logging import configure_logging
    from agenthub.readiness import embedded_database_lock, prepare_database

    with _failing_in_one_line(settings):  # another embedded server on this SQLite file: one line
        database_lock = embedded_database_lock(settings)
        if database_lock is not None:
            database_lock.acquire()
    configure_logging(settings, component="gateway")
    command = startup.cli_command(sys.argv[0], search_path=os.environ.get("PATH"), cwd=os.getcwd())
    ready = startup.ready_line(settings, host=host, port=port, command=command)

    def _on_ready() -> None:
        settle_garbage_collector()
        logging.getLogger("agenthub").info(ready)
        generated = getattr(web_app.state, "first_owner_password", None)
        if generated:  # on the console, never in the logs
            typer.echo(startup.first_owner_line(settings.admin_email, generated), err=True)

    async def _check() -> None:
        load_box(settings)  # a key file that holds no key is one line; the embedded mode makes one
        engine = create_engine(settings.effective_database_url, pool_size=1)
        try:
            await prepare_database(settings, engine)
        finally:
            await engine.dispose()
        await startup.check_bus(settings)

    # What can be wrong with the key, the database or the bus is told before the app (and
    # every library it uses) is imported: in a second rather than in several.
    _database_run(_check(), settings)

    import uvicorn

    from agenthub.app import create_app
    from agenthub.channels.limits import websocket_server_options
    from agenthub.runtime.loop import settle_garbage_collector

    with _failing_in_one_line(settings):  # PRICES_FILE unreadable or wrong: one line
        web_app = create_app(settings, on_ready=_on_ready, database_lock=database_lock)
    config = uvicorn.Config(
        web_app,
        host=host,
        port=port,
        log_config=None,
        # On SIGTERM, answers still streaming over SSE get as long to finish as a stopping
        # agent's; then they are cut (their messages are kept and answered as any left
        # unanswered by a shutdown). Whole seconds.
        timeout_graceful_shutdown=math.ceil(settings.stop_grace_period),
        # Behind a proxy that strips ROOT_PATH: paths, links and the docs carry it again.
        root_path=settings.root_path,
        **websocket_server_options(),  # frame size limit, pings (channels/limits.py)
    )
    uvicorn.Server(config).run(sockets=[listener])


@app.command(cls=_Command)
def migrate() -> None:
    """Upgrade the database (DATABASE_URL) to this version's schema."""
    from agenthub.db import migrate as migrations
    from agenthub.db.engine import create_engine

    settings = _settings()
    _require_database_url(settings)

    async def _run() -> str | None:
        engine = create_engine(settings.effective_database_url, pool_size=1)
        try:
            await migrations.upgrade(engine)
            return await migrations.current_revision(engine)
        finally:
            await engine.dispose()

    revision = _database_run(_run(), settings)
    console.print(f"Database is at revision [bold]{revision}[/bold].")


MCP_KEY_VARIABLE = "AGENTHUB_API_KEY"


@app.command("mcp", cls=_Command)
def mcp_stdio() -> None:
    """Serve the MCP tools for building scenario bots over stdin/stdout (for an AI assistant).

    Acts as the API key (or access token) in AGENTHUB_API_KEY, in its organisation.

    Uses the database and bus of the settings (DATABASE_URL, REDIS_URL); logs go to stderr.

    With the embedded SQLite database it can't run beside `agenthub serve`: use its /mcp then.
    """
    from agenthub.app import create_app
    from agenthub.errors import Unauthorized
    from agenthub.mcp.server import run_stdio
    from agenthub.ops.logging import configure_logging

    token = os.environ.get(MCP_KEY_VARIABLE, "").strip()
    if not token:
        _fail(f"set {MCP_KEY_VARIABLE} to an API key of your organisation (Settings, API keys)", code=2)
    settings = _settings()
    _require_database_url(settings)
    configure_logging(settings, component="mcp")

    async def _serve() -> None:
        web_app = create_app(settings)
        async with web_app.router.lifespan_context(web_app):
            try:
                await run_stdio(web_app.state, token)
            except Unauthorized as error:
                raise Unauthorized(f"{MCP_KEY_VARIABLE}: {error.message}") from None

    _database_run(_serve(), settings)


@app.command(cls=_Command)
def runner(agent_id: Annotated[str, typer.Option("--agent-id", help="The agent to host")]) -> None:
    """Host one agent in this process until SIGTERM (needs REDIS_URL).

    The supervisor starts one of these for each agent with isolation 'process'.
    """
    settings = _settings()
    _require_database_url(settings)
    _database_run(startup.ping_database(settings), settings)
    _require_bus(settings)
    # Imported once the settings are known good: a refusal above is said at once.
    from agenthub.ops.logging import configure_logging
    from agenthub.runtime.runner_main import serve_runner

    configure_logging(settings, component=f"runner:{agent_id}")
    raise typer.Exit(_host(serve_runner(settings, agent_id), settings))


@app.command(cls=_Command)
def worker(
    queues: Annotated[
        bool,
        typer.Option("--queues", help="Also store chat history and token usage from their queues, as `serve` does"),
    ] = False,
) -> None:
    """Host many agents with isolation 'shared' until SIGTERM (needs REDIS_URL).

    Start several, on any machines that share the Redis and the database, to spread the load.
    """
    settings = _settings()
    _require_database_url(settings)
    _database_run(startup.ping_database(settings), settings)
    _require_bus(settings)
    from agenthub.ops.logging import configure_logging
    from agenthub.runtime.worker_main import serve_worker

    configure_logging(settings, component="worker")
    raise typer.Exit(_host(serve_worker(settings, queues=queues), settings))


app.command("health", cls=_Command)(cli_health.health)  # what containers' health checks run


# --- agents ---------------------------------------------------------------------------------
def _api(api_url: str | None) -> str:
    url = (api_url or f"http://127.0.0.1:{_settings().manager_port}").rstrip("/")
    try:
        parts = urlsplit(url)
        valid = parts.scheme in ("http", "https") and bool(parts.hostname)
    except ValueError:
        valid = False
    if not valid:
        _fail(f"Invalid --api-url {mask_url(url)}: expected http://HOST:PORT or https://HOST", code=2)
    return url


def _hide_credentials(text: str, url: str) -> str:
    """``text`` (an error's message) with the user and password of ``url`` masked wherever
    it shows them, as :func:`mask_url` masks them."""
    authority = urlsplit(url).netloc
    userinfo, at, host = authority.rpartition("@")
    if not at:
        return text
    return text.replace(f"{userinfo}@", mask_url(f"x://{authority}")[len("x://"):-len(host)])


def _call(method: str, api: str, path: str, **kwargs: Any) -> Any:
    """``method path`` on the AgentHub at ``api``, with the CLI's credentials (cli_login.py)."""
    import httpx

    from agenthub.cli_login import NotLoggedIn, ServerAuth

    url = f"{api}{path}"
    try:
        response = ServerAuth.for_api(api).request(method, path, **kwargs)
    except httpx.HTTPError as error:
        _fail(f"Cannot reach AgentHub at {mask_url(url)}: {_hide_credentials(str(error), url)}")
    except NotLoggedIn as error:
        _fail(str(error))
    if response.status_code >= 400:
        try:
            message = response.json()["error"]["message"]
        except (ValueError, KeyError, TypeError):
            message = response.text
        _fail(f"{response.status_code}: {message}")
    return response.json() if response.content else None


def _cell(value: Any) -> str:
    """A value for one tab-separated field: tabs and line breaks would split it."""
    return " ".join(str(value).split())


LIST_COLUMNS = ("id", "name", "provider", "model", "isolation")


@agents_app.command("list", cls=_Command)
def agents_list(
    api_url: ApiUrl = None,
    no_header: Annotated[bool, typer.Option("--no-header", help="Piped: leave out the header line")] = False,
) -> None:
    """List agents.

    Piped, it prints tab-separated lines instead: a header, then id, name, provider, model, isolation.
    """
    data = _call("GET", _api(api_url), "/api/v1/agents")
    rows = [
        # Agents of kinds other than llm have no provider and model: shown as "-".
        (agent["id"], agent["name"], agent["settings"].get("provider", "-"), agent["settings"].get("model_id", "-"),
         agent["settings"].get("isolation", "shared"))
        for agent in data["items"]
    ]
    if not console.is_terminal:
        for row in ([] if no_header else [LIST_COLUMNS]) + rows:
            typer.echo("\t".join(_cell(value) for value in row))
        return
    _print_whole_ids(rows)


def _print_whole_ids(rows: Sequence[tuple[Any, ...]]) -> None:
    """The agents as a table whose ids are never folded nor cut (they are copied into
    other commands): the other columns fold first (down to their header's width), then
    the borders go; a terminal too narrow even for that gets lines longer than it is wide."""
    id_width = max((len(str(row[0])) for row in rows), default=2)
    table = Table(
        Column("id", no_wrap=True, min_width=id_width),
        *(Column(name, overflow="fold", min_width=len(name)) for name in LIST_COLUMNS[1:]),
    )
    for row in rows:
        table.add_row(*(escape(str(value)) for value in row))
    least = id_width + sum(len(name) for name in LIST_COLUMNS[1:])
    out = console
    if least + 3 * len(LIST_COLUMNS) + 1 > console.width:  # cells with their borders and padding
        table.box, table.show_edge, table.padding = None, False, (0, 1)
        if least + 2 * len(LIST_COLUMNS) > console.width:  # cells with their padding alone
            out = Console(
                file=console.file, width=least + 2 * len(LIST_COLUMNS), force_terminal=console.is_terminal,
                no_color=console.no_color, soft_wrap=True,
            )
    out.print(table)


@agents_app.command("create", cls=_Command)
def agents_create(
    name: Annotated[str, typer.Option(help="Display name")],
    provider: Annotated[str, typer.Option(help="openai, openrouter, ollama, openai_compatible or fake")],
    model_id: Annotated[str, typer.Option("--model-id", help="Model name at the provider")],
    agent_id: Annotated[str | None, typer.Option("--id", help="Agent id", show_default="generated")] = None,
    system_prompt: Annotated[str, typer.Option(help="System prompt")] = "",
    temperature: Annotated[float, typer.Option(help="Sampling temperature")] = 0.7,
    base_url: Annotated[str | None, typer.Option(help="OpenAI-compatible endpoint")] = None,
    isolation: Annotated[str, typer.Option(help="process or shared")] = "shared",
    api_url: ApiUrl = None,
) -> None:
    """Create an LLM agent."""
    body = {
        "name": name,
        "kind": "llm",
        "settings": {
            "system_prompt": system_prompt,
            "provider": provider,
            "model_id": model_id,
            "temperature": temperature,
            "base_url": base_url,
            "isolation": isolation,
        },
    }
    if agent_id:
        body["id"] = agent_id
    agent = _call("POST", _api(api_url), "/api/v1/agents", json=body)
    console.print(f"Created agent [bold]{agent['id']}[/bold].")


def _print_status(status: dict[str, Any]) -> None:
    console.print_json(json.dumps(status))


@agents_app.command("start", cls=_Command)
def agents_start(agent_id: AgentId, api_url: ApiUrl = None) -> None:
    """Start an agent."""
    _print_status(_call("POST", _api(api_url), f"/api/v1/agents/{agent_id}/start"))


@agents_app.command("stop", cls=_Command)
def agents_stop(
    agent_id: AgentId,
    force: Annotated[bool, typer.Option("--force", help="Kill it at once instead of letting its turn finish")] = False,
    api_url: ApiUrl = None,
) -> None:
    """Stop an agent (gracefully unless --force)."""
    _print_status(_call("POST", _api(api_url), f"/api/v1/agents/{agent_id}/stop", params={"force": force}))


@agents_app.command("status", cls=_Command)
def agents_status(agent_id: AgentId, api_url: ApiUrl = None) -> None:
    """Show an agent's status."""
    _print_status(_call("GET", _api(api_url), f"/api/v1/agents/{agent_id}/status"))


@agents_app.command("restart", cls=_Command)
def agents_restart(agent_id: AgentId, api_url: ApiUrl = None) -> None:
    """Restart an agent (it takes its latest config); also brings one in error back."""
    _print_status(_call("POST", _api(api_url), f"/api/v1/agents/{agent_id}/restart"))


@agents_app.command("delete", cls=_Command)
def agents_delete(
    agent_id: AgentId,
    yes: Annotated[bool, typer.Option("--yes", "-y", help="Do not ask for confirmation")] = False,
    api_url: ApiUrl = None,
) -> None:
    """Stop and delete an agent (asks first on a terminal unless --yes)."""
    api = _api(api_url)
    if not yes and sys.stdin.isatty() and not typer.confirm(f"Delete agent {agent_id}?"):
        raise typer.Exit(1)
    _call("DELETE", api, f"/api/v1/agents/{agent_id}")
    console.print(f"Deleted agent [bold]{escape(agent_id)}[/bold].")


@agents_app.command("update", cls=_Command)
def agents_update(
    agent_id: AgentId,
    name: Annotated[str | None, typer.Option(help="Display name")] = None,
    provider: Annotated[str | None, typer.Option(help="openai, openrouter, ollama, openai_compatible or fake")] = None,
    model_id: Annotated[str | None, typer.Option("--model-id", help="Model name at the provider")] = None,
    system_prompt: Annotated[str | None, typer.Option(help="System prompt")] = None,
    temperature: Annotated[float | None, typer.Option(help="Sampling temperature")] = None,
    base_url: Annotated[str | None, typer.Option(help="OpenAI-compatible endpoint")] = None,
    isolation: Annotated[str | None, typer.Option(help="process or shared")] = None,
    api_url: ApiUrl = None,
) -> None:
    """Change an agent's name or settings; what is not given is kept."""
    changes = {
        "provider": provider, "model_id": model_id, "system_prompt": system_prompt,
        "temperature": temperature, "base_url": base_url, "isolation": isolation,
    }
    body: dict[str, Any] = {"settings": {k: v for k, v in changes.items() if v is not None}}
    if name is not None:
        body["name"] = name
    if not body["settings"]:
        del body["settings"]
    if not body:
        _fail("Nothing to change: give --name or a setting (see --help).", code=2)
    updated = _call("PATCH", _api(api_url), f"/api/v1/agents/{agent_id}", json=body)
    console.print(escape(updated["message"]))
    if updated.get("restart_required"):
        console.print(f"Restart it to use the new config now: agenthub agents restart {escape(agent_id)}")


@agents_app.command("history", cls=_Command)
def agents_history(
    agent_id: AgentId,
    chat_id: Annotated[str, typer.Argument(metavar="CHAT_ID", help="The chat (agenthub chat prints its id)")],
    limit: Annotated[int, typer.Option(help="At most this many messages", min=1, max=1000)] = 100,
    api_url: ApiUrl = None,
) -> None:
    """Show a chat's messages in order.

    Piped, it prints tab-separated lines instead: position, role, time, content.
    """
    data = _call(
        "GET", _api(api_url), f"/api/v1/agents/{agent_id}/chats/{chat_id}/messages", params={"limit": limit}
    )
    for message in data["items"]:
        if not console.is_terminal:
            typer.echo("\t".join(_cell(message[k]) for k in ("position", "role", "created_at", "content")))
            continue
        who = "[bold cyan]you>[/bold cyan]" if message["role"] == "user" else "[bold green]agent>[/bold green]"
        console.print(f"[dim]{escape(message['created_at'])}[/dim] {who} ", end="")
        console.print(message["content"], markup=False, highlight=False)


@agents_app.command("usage", cls=_Command)
def agents_usage(agent_id: AgentId, api_url: ApiUrl = None) -> None:
    """Show an agent's token usage and cost."""
    _print_status(_call("GET", _api(api_url), f"/api/v1/agents/{agent_id}/usage"))


# --- login ----------------------------------------------------------------------------------
@app.command(cls=_Command)
def login(
    email: Annotated[str | None, typer.Option(help="Your e-mail", show_default="asked")] = None,
    password: Annotated[str | None, typer.Option(help="Your password", show_default="asked, hidden")] = None,
    api_url: ApiUrl = None,
) -> None:
    """Log in, so that the other commands act as you on this AgentHub.

    The tokens are kept in $AGENTHUB_CONFIG_DIR/credentials.json (default ~/.config/agenthub/),
    readable only by you. AGENTHUB_TOKEN (an access token or API key), when set, is sent instead.
    """
    import httpx

    from agenthub.cli_login import TOKEN_ENV, LoginRefused, ServerAuth

    api = _api(api_url)
    email = email or typer.prompt("E-mail")
    password = password or typer.prompt("Password", hide_input=True)
    auth = ServerAuth.for_api(api)
    try:
        auth.log_in(email=email, password=password)
    except httpx.HTTPError as error:
        _fail(f"Cannot reach AgentHub at {mask_url(api)}: {_hide_credentials(str(error), api)}")
    except LoginRefused as error:
        _fail(f"Login refused: {error}")
    console.print(f"Logged in to {escape(mask_url(api))} as [bold]{escape(email)}[/bold].")
    if auth.env_token:
        err.print(f"[yellow]{TOKEN_ENV} is set: it is sent instead of this login until you unset it.[/yellow]")


@app.command(cls=_Command)
def logout(api_url: ApiUrl = None) -> None:
    """Log out: the stored login for this AgentHub ends, on the server too."""
    from agenthub.cli_login import ServerAuth

    api = _api(api_url)
    email = ServerAuth.for_api(api).log_out()
    if email is None:
        console.print(f"Not logged in to {escape(mask_url(api))}.")
        return
    console.print(f"Logged out of {escape(mask_url(api))}" + (f" ({escape(email)})." if email else "."))


# --- chat -----------------------------------------------------------------------------------
@app.command(cls=_Command)
def chat(
    agent_id: AgentId,
    api_url: ApiUrl = None,
    chat_id: Annotated[str | None, typer.Option(help="Continue this chat")] = None,
) -> None:
    """Chat with an agent in the terminal; answers stream as they come.

    It talks over the WebSocket and reads lines from standard input, so it also works with a pipe.
    """
    import re

    from websockets.exceptions import InvalidStatus, WebSocketException

    from agenthub.channels.terminal import HANDSHAKE_REFUSALS, chat_url, run_terminal_chat
    from agenthub.chats.schemas import CHAT_ID_PATTERN
    from agenthub.cli_login import ServerAuth

    if chat_id is not None and not re.fullmatch(CHAT_ID_PATTERN, chat_id):
        _fail(f"Invalid --chat-id {chat_id!r}: letters, digits and _.:@- only, at most 128 characters", code=2)
    api = _api(api_url)
    url = chat_url(api, agent_id)
    headers = ServerAuth.for_api(api).fresh_headers()
    try:
        code = asyncio.run(run_terminal_chat(url, chat_id=chat_id, console=console, errors=err, headers=headers))
    except KeyboardInterrupt:
        code = 0
    except InvalidStatus as error:  # the server answered, and said no
        status = error.response.status_code
        meaning = HANDSHAKE_REFUSALS.get(status, "the server refused the WebSocket")
        _fail(f"AgentHub at {mask_url(api)} refused the chat with agent {agent_id!r} (HTTP {status}): {meaning}")
    except (OSError, WebSocketException) as error:
        _fail(f"Cannot reach AgentHub at {mask_url(api)}: {_hide_credentials(str(error), api)}")
    raise typer.Exit(code)


# --- credentials ----------------------------------------------------------------------------
@credentials_app.command("rotate-key", cls=_Command)
def credentials_rotate_key(
    new_key: Annotated[
        str | None,
        typer.Option(
            "--new-key", envvar="NEW_SECRET_BOX_KEY", show_envvar=True,
            help="The new key: 32 random bytes in standard base64 (`openssl rand -base64 32`)",
            show_default="a new one is generated",
        ),
    ] = None,
) -> None:
    """Encrypt every credential again under a new key, in one transaction.

    The old key is SECRET_BOX_KEY, or the embedded mode's key file in DATA_DIR, which then
    gets the new key. Stop `agenthub serve` and every worker first; with SECRET_BOX_KEY, set
    the new key for each of them before they start again.
    """
    from agenthub.credentials.rotation import rotate_key

    settings = _settings()
    _require_database_url(settings)
    done = _database_run(rotate_key(settings, new_key=new_key), settings)
    if done.key_file is not None:
        console.print(
            f"Re-encrypted {done.resealed} credentials. The new key is in {escape(str(done.key_file))}: "
            "keep a copy of it, the credentials can't be opened without it."
        )
        return
    console.print(
        f"Re-encrypted {done.resealed} credentials. Set SECRET_BOX_KEY to the new key for `agenthub serve` "
        "and every `agenthub worker`, then start them again; the old key no longer opens them."
    )
    if done.new_key is not None:
        err.print("The new key (shown once):")
        typer.echo(done.new_key)


# --- queues ---------------------------------------------------------------------------------
@queues_app.command("dead-letters", cls=_Command)
def queues_dead_letters(
    retry: Annotated[bool, typer.Option("--retry", help="Put them back on their queue to be stored again")] = False,
    queue: Annotated[
        str | None, typer.Option(help="history_queue or token_usage_queue", show_default="every queue")
    ] = None,
    api_url: ApiUrl = None,
) -> None:
    """List the queue entries that kept failing (dead letters), or retry them.

    Prints a count line per queue; piped, then one tab-separated line per dead letter:
    queue, failed at, deliveries, entry, error.

    Asks the running server, which holds the bus (in the embedded mode, the only one).
    """
    params = {"queue": queue} if queue else {}
    if retry:
        data = _call("POST", _api(api_url), "/api/v1/queues/dead-letters/retry", params=params)
        for name, count in data["retried"].items():
            typer.echo(f"{name}: {count} put back")
        return
    data = _call("GET", _api(api_url), "/api/v1/queues/dead-letters", params=params)
    rows = [
        (group["queue"], letter["failed_at"], letter["deliveries"], letter["entry_id"], letter["error"])
        for group in data["queues"]
        for letter in group["items"]
    ]
    for group in data["queues"]:  # on a terminal and piped alike
        typer.echo(f"{group['queue']}: {group['count']} dead letters")
    if not console.is_terminal:  # then one tab-separated line per dead letter
        for row in rows:
            typer.echo("\t".join(_cell(value) for value in row))
        return
    if rows:
        table = Table("queue", "failed at", "deliveries", "entry", Column("error", overflow="fold"))
        for row in rows:
            table.add_row(*(escape(str(value)) for value in row))
        console.print(table)
