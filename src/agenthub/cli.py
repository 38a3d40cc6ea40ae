"""``agenthub``: serve, migrate, runner, worker, agents ..., chat."""

from __future__ import annotations

import asyncio
import json
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.table import Table

from agenthub.config import Settings

app = typer.Typer(help="AgentHub: host AI agents and talk to them.", no_args_is_help=True)
agents_app = typer.Typer(help="Manage agents through a running AgentHub.", no_args_is_help=True)
app.add_typer(agents_app, name="agents")
console = Console()
err = Console(stderr=True)

ApiUrl = Annotated[
    str | None, typer.Option("--api-url", help="AgentHub's address [default: http://127.0.0.1:MANAGER_PORT]")
]


def _settings() -> Settings:
    try:
        return Settings()
    except Exception as error:  # noqa: BLE001 - a readable message instead of a trace
        err.print(f"[red]Invalid configuration:[/red] {error}")
        raise typer.Exit(2) from None


@app.command()
def serve(
    host: Annotated[str | None, typer.Option(help="Bind address [default: MANAGER_HOST]")] = None,
    port: Annotated[int | None, typer.Option(help="Port [default: MANAGER_PORT]")] = None,
) -> None:
    """Run the gateway, the supervisor and the workers. Without DATABASE_URL and REDIS_URL
    (the embedded default) it needs nothing else."""
    import uvicorn

    from agenthub.app import create_app, prepare_database
    from agenthub.db.engine import create_engine
    from agenthub.errors import AgentHubError
    from agenthub.ops.logging import configure_logging
    from agenthub.runtime.loop import settle_garbage_collector

    settings = _settings()
    configure_logging(settings, component="gateway")

    async def _check() -> None:
        engine = create_engine(settings.effective_database_url, pool_size=1)
        try:
            await prepare_database(settings, engine)
        finally:
            await engine.dispose()

    try:
        asyncio.run(_check())
    except AgentHubError as error:
        err.print(f"[red]{error.message}[/red]")
        raise typer.Exit(1) from None
    except OSError as error:
        err.print(f"[red]Cannot reach the database:[/red] {error}")
        raise typer.Exit(1) from None
    uvicorn.run(
        create_app(settings, on_ready=settle_garbage_collector),
        host=host or settings.manager_host,
        port=port or settings.manager_port,
        log_config=None,
        ws_ping_interval=20,
        # Frames are small JSON events: compressing them costs both ends more CPU than the
        # bytes it saves on any link AgentHub runs over.
        ws_per_message_deflate=False,
    )


@app.command()
def migrate() -> None:
    """Upgrade the database to this version's schema."""
    from agenthub.db import migrate as migrations
    from agenthub.db.engine import create_engine

    settings = _settings()

    async def _run() -> str | None:
        engine = create_engine(settings.effective_database_url, pool_size=1)
        try:
            await migrations.upgrade(engine)
            return await migrations.current_revision(engine)
        finally:
            await engine.dispose()

    try:
        revision = asyncio.run(_run())
    except OSError as error:
        err.print(f"[red]Cannot reach the database:[/red] {error}")
        raise typer.Exit(1) from None
    console.print(f"Database is at revision [bold]{revision}[/bold].")


@app.command()
def runner(agent_id: Annotated[str, typer.Option("--agent-id", help="The agent to host")]) -> None:
    """Host one agent in this process until SIGTERM (what the supervisor starts for
    agents with isolation 'process')."""
    from agenthub.ops.logging import configure_logging
    from agenthub.runtime import loop as event_loop
    from agenthub.runtime.runner_main import serve_runner

    settings = _settings()
    configure_logging(settings, component=f"runner:{agent_id}")
    raise typer.Exit(event_loop.run(serve_runner(settings, agent_id)))


@app.command()
def worker(
    queues: Annotated[
        bool,
        typer.Option(help="Also store history and token usage from their queues (every `serve` does)"),
    ] = False,
) -> None:
    """Host many agents with isolation 'shared' as tasks (needs REDIS_URL). Start several
    to share the load."""
    from agenthub.ops.logging import configure_logging
    from agenthub.runtime import loop as event_loop
    from agenthub.runtime.worker_main import serve_worker

    settings = _settings()
    configure_logging(settings, component="worker")
    event_loop.run(serve_worker(settings, queues=queues))


# --- agents ---------------------------------------------------------------------------------
def _api(api_url: str | None) -> str:
    return (api_url or f"http://127.0.0.1:{_settings().manager_port}").rstrip("/")


def _call(method: str, url: str, **kwargs: Any) -> Any:
    import httpx

    try:
        response = httpx.request(method, url, timeout=30, **kwargs)
    except httpx.HTTPError as error:
        err.print(f"[red]Cannot reach AgentHub at {url}:[/red] {error}")
        raise typer.Exit(1) from None
    if response.status_code >= 400:
        try:
            message = response.json()["error"]["message"]
        except (ValueError, KeyError, TypeError):
            message = response.text
        err.print(f"[red]{response.status_code}:[/red] {message}")
        raise typer.Exit(1)
    return response.json() if response.content else None


@agents_app.command("list")
def agents_list(api_url: ApiUrl = None) -> None:
    """List agents."""
    data = _call("GET", f"{_api(api_url)}/api/v1/agents")
    table = Table("id", "name", "provider", "model", "isolation")
    for agent in data["items"]:
        s = agent["settings"]
        table.add_row(agent["id"], agent["name"], s["provider"], s["model_id"], s["isolation"])
    console.print(table)


@agents_app.command("create")
def agents_create(
    name: Annotated[str, typer.Option(help="Display name")],
    provider: Annotated[str, typer.Option(help="openai | openrouter | ollama | openai_compatible | fake")],
    model_id: Annotated[str, typer.Option("--model-id", help="Model name at the provider")],
    agent_id: Annotated[str | None, typer.Option("--id", help="Agent id [default: generated]")] = None,
    system_prompt: Annotated[str, typer.Option(help="System prompt")] = "",
    temperature: float = 0.7,
    base_url: Annotated[str | None, typer.Option(help="OpenAI-compatible endpoint")] = None,
    isolation: Annotated[str, typer.Option(help="process | shared")] = "shared",
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
    agent = _call("POST", f"{_api(api_url)}/api/v1/agents", json=body)
    console.print(f"Created agent [bold]{agent['id']}[/bold].")


def _print_status(status: dict[str, Any]) -> None:
    console.print_json(json.dumps(status))


@agents_app.command("start")
def agents_start(agent_id: str, api_url: ApiUrl = None) -> None:
    """Start an agent."""
    _print_status(_call("POST", f"{_api(api_url)}/api/v1/agents/{agent_id}/start"))


@agents_app.command("stop")
def agents_stop(
    agent_id: str,
    force: Annotated[bool, typer.Option(help="Kill at once")] = False,
    api_url: ApiUrl = None,
) -> None:
    """Stop an agent (gracefully unless --force)."""
    _print_status(_call("POST", f"{_api(api_url)}/api/v1/agents/{agent_id}/stop", params={"force": force}))


@agents_app.command("status")
def agents_status(agent_id: str, api_url: ApiUrl = None) -> None:
    """Show an agent's status."""
    _print_status(_call("GET", f"{_api(api_url)}/api/v1/agents/{agent_id}/status"))


# --- chat -----------------------------------------------------------------------------------
@app.command()
def chat(
    agent_id: str,
    api_url: ApiUrl = None,
    chat_id: Annotated[str | None, typer.Option(help="Continue this chat")] = None,
) -> None:
    """Chat with an agent in the terminal over the WebSocket; answers stream as they come.
    Lines are read from standard input, so it also works with a pipe."""
    from websockets.exceptions import WebSocketException

    from agenthub.channels.terminal import run_terminal_chat

    url = _api(api_url).replace("http://", "ws://", 1).replace("https://", "wss://", 1)
    try:
        code = asyncio.run(run_terminal_chat(f"{url}/ws/agents/{agent_id}", chat_id=chat_id, console=console))
    except KeyboardInterrupt:
        code = 0
    except (OSError, WebSocketException) as error:
        err.print(f"[red]Cannot reach AgentHub at {url}:[/red] {error}")
        code = 1
    raise typer.Exit(code)
