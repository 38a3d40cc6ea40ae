"""How much a run may take: the defaults, what a step asks for, and the operator's maxima.

A step may ask for less than the defaults, and for more only up to the maxima the operator
sets (``SANDBOX_MAX_*``); anything above a maximum is brought down to it.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, fields
from typing import Any

MB = 1024 * 1024


@dataclass(frozen=True)
class Limits:
    """The limits of one run."""

    wall_seconds: float = 5.0
    cpu_seconds: float = 2.0
    memory_mb: int = 256
    output_bytes: int = 1 * MB
    result_bytes: int = 1 * MB

    def within(self, maxima: Limits) -> Limits:
        """These limits, each brought down to the operator's maximum."""
        return Limits(**{f.name: min(getattr(self, f.name), getattr(maxima, f.name)) for f in fields(self)})

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


DEFAULT_LIMITS = Limits()


def asked(request: dict[str, Any] | Limits | None, *, maxima: Limits) -> Limits:
    """The limits of a run from what a step asks (any subset of the fields), within the maxima.

    Unknown or non-positive values are refused with ``ValueError`` naming the field.
    """
    if isinstance(request, Limits):
        return request.within(maxima)
    values = DEFAULT_LIMITS.as_dict()
    for name, value in (request or {}).items():
        if name not in values:
            raise ValueError(f"unknown sandbox limit {name!r}; known: {', '.join(values)}")
        if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value) or value <= 0:
            raise ValueError(f"sandbox limit {name!r} must be a positive number")
        values[name] = type(values[name])(value)
    return Limits(**values).within(maxima)
