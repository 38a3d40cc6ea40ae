"""Running a long-lived component's event loop: uvloop where it is installed (it comes with
uvicorn's standard extras on Linux and macOS), the standard loop otherwise."""

from __future__ import annotations

import asyncio
from collections.abc import Coroutine
from typing import Any, TypeVar

try:
    import uvloop
except ImportError:  # pragma: no cover - platforms without uvloop
    uvloop = None  # type: ignore[assignment]

T = TypeVar("T")


def run(main: Coroutine[Any, Any, T]) -> T:
    if uvloop is None:
        return asyncio.run(main)
    return uvloop.run(main)
