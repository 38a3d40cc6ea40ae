"""``agenthub sandbox check | run``: try the code sandbox on this machine (no server needed).

Both start a sandbox as ``agenthub serve`` does, from the ``SANDBOX_*`` settings, with one
warm process instead of ``SANDBOX_POOL_SIZE`` (the layers are the same). ``cli.py`` registers
them under ``agenthub sandbox``.
"""

from __future__ import annotations

import asyncio
import json
import sys
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, NoReturn

import typer
from rich.markup import escape
from rich.table import Table

from agenthub.config import Settings

if TYPE_CHECKING:
    from agenthub.sandbox.result import Result
    from agenthub.sandbox.service import SandboxService

HELP = "Try the code sandbox on this machine (no server needed)."
LAYER_PURPOSES = {
    "process": "a process of its own per run, forked warm, no inherited files, no secret in its environment",
    "rlimits": "CPU time, memory, open files, file size, no new processes",
    "language": "RestrictedPython: allowed imports only, no _ names, no eval/exec/open",
    "seccomp": "system calls: no sockets, exec, fork, ptrace, mount, kill of others",
    "landlock": "files: read only what Python needs, write only the run's folder",
    "bubblewrap": "namespaces: no network, a file system of read-only binds",
    "unprivileged_user": "runs as SANDBOX_USER, not as the platform's user",
    "private_tmpfs": "the run's folder: a private, size-capped tmpfs",
}


def _fail(message: str, *, code: int = 1) -> NoReturn:
    from agenthub.cli_output import fail

    fail(message, code=code)


def _service(settings: Settings) -> SandboxService:
    """A one-process sandbox from the settings; a ``SANDBOX_REQUIRED_LAYERS`` naming no layer
    is one line and exit code 2."""
    from agenthub.config import ConfigurationError
    from agenthub.sandbox.service import SandboxService
    from agenthub.sandbox.settings import pool_config

    try:
        config = pool_config(settings)
    except ConfigurationError as error:
        _fail(str(error), code=2)
    return SandboxService(replace(config, size=1), report=False)


def check() -> None:
    """Start the sandbox from the SANDBOX_* settings and show which layers are active.

    Exits with 0 when it started, 1 when it could not or a layer SANDBOX_REQUIRED_LAYERS names is missing (the reason on standard error).
    """
    from agenthub.cli_output import console, err
    from agenthub.cli_output import read_settings as _settings
    from agenthub.sandbox.settings import LAYER_NAMES

    service = _service(_settings())

    async def _start() -> None:
        try:
            await service.start()
        finally:
            await service.close()

    asyncio.run(_start())
    layers = service.layers
    if layers is not None:
        reasons = {reason.split(":", 1)[0]: reason.split(":", 1)[-1].strip() for reason in layers.missing}
        table = Table("layer", "state", "what it does, or why it is missing", title="Sandbox layers")
        for name in LAYER_NAMES:
            on = bool(getattr(layers, name))
            state = "[green]active[/green]" if on else "[yellow]missing[/yellow]"
            if name in service.required:
                state += " (required)"
            table.add_row(name, state, escape(LAYER_PURPOSES.get(name, "") if on else reasons.get(name, "")))
        console.print(table)
    if service.error is not None:
        err.print(f"[red]The sandbox is unavailable: {escape(service.error)}[/red]")
        raise typer.Exit(1)
    assert layers is not None
    active = layers.active()
    console.print(f"The sandbox started with {len(active)} of {len(LAYER_NAMES)} layers.")


def _json_option(name: str, text: str) -> Any:
    try:
        return json.loads(text)
    except ValueError as error:
        _fail(f"Invalid {name}: not JSON ({error})", code=2)


def _read_code(file: str) -> str:
    try:
        # utf-8-sig: a file saved with a byte-order mark (as some editors do) reads as Python does.
        if file == "-":
            return sys.stdin.buffer.read().decode("utf-8-sig")
        return Path(file).read_text(encoding="utf-8-sig")
    except OSError as error:
        _fail(f"Cannot read {file}: {error.strerror or error}", code=2)
    except UnicodeDecodeError:
        _fail(f"Cannot read {file}: it is not UTF-8 text", code=2)


def run(
    file: Annotated[
        str, typer.Argument(metavar="FILE", help="Python code defining main(message, variables); - reads standard input")
    ],
    message: Annotated[str, typer.Option("--message", help="The message, as JSON")] = "null",
    variables: Annotated[str, typer.Option("--variables", help="The variables, a JSON object")] = "{}",
    limits: Annotated[
        str | None,
        typer.Option("--limits", help='Limits, a JSON object: wall_seconds, cpu_seconds, memory_mb, output_bytes, '
                                      'result_bytes (e.g. \'{"wall_seconds": 1}\')', show_default="the defaults"),
    ] = None,
) -> None:
    """Run a file as a code step would and print the result as JSON.

    The file defines main(message, variables), or async def main, returning a dict. Exits with 0 for an "ok" result, 1 for an error result or a sandbox that could not start, 2 for options or a file that can't be used.
    """
    from agenthub.cli import _settings, err
    from agenthub.sandbox.limits import asked

    code = _read_code(file)
    message_value = _json_option("--message", message)
    variables_value = _json_option("--variables", variables)
    if not isinstance(variables_value, dict):
        _fail("Invalid --variables: a JSON object is expected, such as '{\"name\": \"Ann\"}'", code=2)
    limits_value = _json_option("--limits", limits) if limits is not None else None
    if limits_value is not None and not isinstance(limits_value, dict):
        _fail("Invalid --limits: a JSON object is expected, such as '{\"wall_seconds\": 1}'", code=2)
    service = _service(_settings())
    try:
        asked(limits_value, maxima=service.pool.config.maxima)
    except ValueError as error:
        _fail(f"Invalid --limits: {error}", code=2)

    async def _run() -> Result | None:
        try:
            await service.start()
            if service.status != "ready":
                return None
            return await service.run(code, message=message_value, variables=variables_value, limits=limits_value)
        finally:
            await service.close()

    result = asyncio.run(_run())
    if result is None:
        err.print(f"[red]The sandbox is unavailable: {escape(service.error or service.status)}[/red]")
        raise typer.Exit(1)
    typer.echo(json.dumps(result.as_dict(), ensure_ascii=False, indent=2))
    raise typer.Exit(0 if result.ok else 1)

