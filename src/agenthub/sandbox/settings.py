"""The pool's configuration from AgentHub's settings (``SANDBOX_*``)."""

from __future__ import annotations

from agenthub.config import Settings
from agenthub.sandbox.layers import Layers
from agenthub.sandbox.limits import Limits
from agenthub.sandbox.pool import PoolConfig


def pool_config(settings: Settings) -> PoolConfig:
    required = tuple(name.strip() for name in settings.sandbox_required_layers.split(",") if name.strip())
    unknown = [name for name in required if name not in Layers.__dataclass_fields__ or name == "missing"]
    if unknown:
        raise ValueError(f"SANDBOX_REQUIRED_LAYERS names unknown layers: {', '.join(unknown)}")
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
        required_layers=required,
    )
