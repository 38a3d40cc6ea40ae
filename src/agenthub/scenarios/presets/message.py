"""``message``: a step that sends a text (with buttons), then goes on to a step."""

from __future__ import annotations

from pydantic import Field

from agenthub.scenarios.document import Button, Text
from agenthub.scenarios.models import Step
from agenthub.scenarios.presets.base import Builder, PresetConfig, StepRef, needed

NAME = "message"
DESCRIPTION = (
    "A step that sends `text` (with optional `buttons`: [{\"text\", \"value\"}]). With `next_step_id` it goes on there: when the user "
    "answers (`wait: true`, the default), or at once (`wait: false`, e.g. a notice before another step)."
)


class Config(PresetConfig):
    text: Text = Field(min_length=1, description="What the step sends; may use variables as {$session.x$}")
    buttons: list[Button] = Field(default_factory=list, max_length=100, description="Buttons sent with it")
    next_step_id: StepRef | None = Field(default=None, description="The step it goes on to (none: it stays)")
    wait: bool = Field(default=True, description="Wait for the user's answer before going on (false: go on at once)")


async def build(config: Config, builder: Builder) -> Step:
    if not config.wait and config.next_step_id is None:
        raise needed("next_step_id", "a message that does not wait needs the step it goes on to")
    step = await builder.step(text=config.text, buttons=config.buttons, proxy=not config.wait)
    if config.next_step_id is not None:
        group = await builder.group(step)
        await builder.connect(group, config.next_step_id)
    return step
