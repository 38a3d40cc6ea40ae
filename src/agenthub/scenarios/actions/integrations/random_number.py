"""``random.number``: a random number, uniform in ``[low, high)``. The ``split`` preset draws
one per session that passes (A/B tests); the random source is given when the registry is
built, so a test can make it repeatable. Result: ``{"value"}``."""

from __future__ import annotations

import random
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, model_validator

from agenthub.scenarios.actions.base import ActionCall, ActionDeps
from agenthub.scenarios.actions.integrations import Integration

NAME = "random.number"
DESCRIPTION = "A random number, uniform from `low` (included) to `high` (excluded): `{\"value\"}`."


class Config(BaseModel):
    model_config = ConfigDict(extra="forbid")

    low: float = Field(default=0, ge=-1e12, le=1e12)
    high: float = Field(default=100, ge=-1e12, le=1e12)

    @model_validator(mode="after")
    def _ordered(self) -> Config:
        if self.high <= self.low:
            raise ValueError("high must be above low")
        return self


def integration(source: random.Random | None = None) -> Integration:
    """The integration drawing from ``source`` (None: a fresh unseeded one)."""
    draw = source or random.Random()  # noqa: S311 - A/B buckets, not secrets

    async def run(config: Config, call: ActionCall, deps: ActionDeps) -> dict[str, Any]:
        return {"value": config.low + (config.high - config.low) * draw.random()}

    return Integration(name=NAME, description=DESCRIPTION, config=Config, run=run)
