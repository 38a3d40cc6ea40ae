"""``delay``: a step that moves the session on after some time (an emitter)."""

from __future__ import annotations

from pydantic import Field

from agenthub.scenarios.document import Text
from agenthub.scenarios.models import Step
from agenthub.scenarios.presets.base import Builder, PresetConfig, StepRef
from agenthub.scenarios.schemas import EmitterFields

NAME = "delay"
DESCRIPTION = (
    "A pause: a step that sends `text` (may be empty) and, `delay_seconds` after the session entered it, moves "
    "the session to `next_step_id` (whose message then reaches the user), unless the session moved on before."
)


class Config(PresetConfig):
    delay_seconds: float = Field(gt=0, le=366 * 86400, description="Seconds to wait")
    next_step_id: StepRef = Field(description="The step the session moves to then")
    text: Text = Field(default="", description="What the step sends when entered (may be empty)")


async def build(config: Config, builder: Builder) -> Step:
    emitter = EmitterFields(delay_seconds=config.delay_seconds, next_step_id=config.next_step_id)
    return await builder.step(text=config.text, emitter=emitter)
