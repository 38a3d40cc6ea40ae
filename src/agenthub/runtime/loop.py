"""Running a long-lived component: uvloop where it is installed (it comes with uvicorn's
standard extras on Linux and macOS), the standard loop otherwise; and a garbage collector
set for a server."""

from __future__ import annotations

import asyncio
import gc
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


GC_THRESHOLDS = (20_000, 20, 10)
"""Python's default (700, 10, 10) runs a collection every 700 new container objects; a turn
makes thousands (LangGraph and LangChain build many small objects), so the collector would
run several times a turn and scan the same long-lived objects each time."""


def settle_garbage_collector() -> None:
    """Call once start-up is done: what exists by then (modules, the app, compiled graphs,
    clients) lives as long as the process, so it is frozen out of every later collection,
    and collections run less often. Cycles still get collected; reference counting frees
    everything else at once, as always."""
    gc.collect()
    gc.freeze()
    gc.set_threshold(*GC_THRESHOLDS)
