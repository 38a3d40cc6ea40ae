"""What every ``agenthub`` command shares: its two consoles, a failure in one line with its
exit code, and the settings read with a readable message when they are wrong."""

from __future__ import annotations

from typing import NoReturn

import typer
from pydantic import ValidationError
from rich.console import Console
from rich.markup import escape

from agenthub.config import Settings
from agenthub.errors import plain_problem

console = Console(soft_wrap=True)  # an answer piped on is not broken into 80-column lines
err = Console(stderr=True, soft_wrap=True)  # an error stays one line, however long


def fail(message: str, *, code: int = 1) -> NoReturn:
    err.print(f"[red]{escape(message)}[/red]")
    raise typer.Exit(code)


def read_settings() -> Settings:
    try:
        return Settings()
    except ValidationError as error:  # one line naming each variable, not pydantic's report
        problems = "; ".join(
            f"{'.'.join(str(part) for part in problem['loc']).upper()}: {plain_problem(problem['msg'])}"
            for problem in error.errors()
        )
        fail(f"Invalid configuration: {problems}", code=2)
    except Exception as error:  # noqa: BLE001 - a readable message instead of a trace
        fail(f"Invalid configuration: {error}", code=2)
