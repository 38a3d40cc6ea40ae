"""Kernel resource limits: CPU time, address space, open files, file size, processes."""

from __future__ import annotations

import math
import resource

OPEN_FILES = 32
CORE = 0


def address_space_in_use() -> int:
    """Bytes of address space this process maps now (its baseline before user code runs)."""
    with open("/proc/self/statm", "rb") as statm:
        pages = int(statm.read().split()[0])
    return pages * resource.getpagesize()


def apply(*, cpu_seconds: float, memory_bytes: int, file_bytes: int) -> None:
    """Set hard and soft limits. The soft CPU limit sends SIGXCPU; a second later, SIGKILL."""
    cpu = max(1, math.ceil(cpu_seconds))
    resource.setrlimit(resource.RLIMIT_CPU, (cpu, cpu + 1))
    resource.setrlimit(resource.RLIMIT_AS, (memory_bytes, memory_bytes))
    resource.setrlimit(resource.RLIMIT_NOFILE, (OPEN_FILES, OPEN_FILES))
    resource.setrlimit(resource.RLIMIT_FSIZE, (file_bytes, file_bytes))
    resource.setrlimit(resource.RLIMIT_CORE, (CORE, CORE))
    resource.setrlimit(resource.RLIMIT_NPROC, (0, 0))


def lower(*, cpu_seconds: float, memory_bytes: int) -> None:
    """Bring CPU time and address space down to one run's limits (limits only ever go down)."""
    cpu = max(1, math.ceil(cpu_seconds))
    _, hard_cpu = resource.getrlimit(resource.RLIMIT_CPU)
    if hard_cpu == resource.RLIM_INFINITY or cpu + 1 <= hard_cpu:
        resource.setrlimit(resource.RLIMIT_CPU, (cpu, cpu + 1))
    _, hard_as = resource.getrlimit(resource.RLIMIT_AS)
    if hard_as == resource.RLIM_INFINITY or memory_bytes <= hard_as:
        resource.setrlimit(resource.RLIMIT_AS, (memory_bytes, memory_bytes))
