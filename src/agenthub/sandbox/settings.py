"""The pool's configuration from AgentHub's settings (``SANDBOX_*``)."""

from __future__ import annotations

from agenthub.config import ConfigurationError, Settings
from agenthub.sandbox.layers import Layers
from agenthub.sandbox.limits import Limits
from agenthub.sandbox.pool import PoolConfig

LAYER_NAMES = tuple(name for name in Layers.__dataclass_fields__ if name != "missing")
"""Every layer ``SANDBOX_REQUIRED_LAYERS`` may name (``process``, ``rlimits`` and ``language``
are always there; the others depend on the machine)."""


def required_layers(text: str) -> tuple[str, ...]:
    """``SANDBOX_REQUIRED_LAYERS`` as layer names (comma-separated, case and spaces ignored);
    a name that is no layer is a ``ConfigurationError`` naming it and the known ones."""
    names: list[str] = []
    for part in text.split(","):
        name = part.strip().lower().replace("-", "_")
        if name and name not in names:
            names.append(name)
    unknown = [name for name in names if name not in LAYER_NAMES]
    if unknown:
        raise ConfigurationError(
            f"SANDBOX_REQUIRED_LAYERS names unknown layers: {', '.join(unknown)}; known: {', '.join(LAYER_NAMES)}"
        )
    return tuple(names)


def pool_config(settings: Settings) -> PoolConfig:
    """The pool's configuration; ``ConfigurationError`` for a ``SANDBOX_REQUIRED_LAYERS`` that
    names no layer (a typo must not quietly weaken what the operator asked for)."""
    return PoolConfig(
        size=settings.sandbox_pool_size,
        maxima=Limits(
            wall_seconds=settings.sandbox_max_wall_seconds, cpu_seconds=settings.sandbox_max_cpu_seconds,
            memory_mb=settings.sandbox_max_memory_mb, output_bytes=settings.sandbox_max_output_bytes,
            result_bytes=settings.sandbox_max_result_bytes,
        ),
        user=settings.sandbox_user,
        tmp_bytes=settings.sandbox_tmp_mb * 1024 * 1024,
        bubblewrap=settings.sandbox_bubblewrap,
        required_layers=required_layers(settings.sandbox_required_layers),
    )
