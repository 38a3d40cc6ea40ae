"""What operations answer besides resources: the JSON error and the health report."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, Field


class ErrorDetail(BaseModel):
    field: str = Field(description="Where: `body`, `settings.temperature`, `limit`, ...")
    problem: str


class ErrorInfo(BaseModel):
    code: str = Field(description="Stable and machine-readable: `not_found`, `invalid_input`, `unavailable`, ...")
    message: str = Field(description="For people; never a stack trace")
    details: list[ErrorDetail] | None = Field(default=None, description="On 422: each field refused, and why")


class ErrorResponse(BaseModel):
    """Every error, whatever its status."""

    error: ErrorInfo


class HealthReport(BaseModel):
    status: Literal["ok", "degraded"]
    checks: dict[str, dict[str, Any]] = Field(
        description="`database`, `bus`, `supervisor`, `sandbox` (its status, active layers and missing ones): each with `ok` and what it found (or its `error`)"
    )
