"""``conditional``: IF the rules hold go to one step, ELSE to another."""

from __future__ import annotations

from pydantic import Field

from agenthub.scenarios.document import Rules, Text
from agenthub.scenarios.models import Step
from agenthub.scenarios.presets.base import Builder, PresetConfig, StepRef

NAME = "conditional"
DESCRIPTION = (
    "IF/ELSE: when `rules` (jQuery-QueryBuilder rules over message.* and variables, e.g. "
    '{"condition": "AND", "rules": [{"field": "session.age", "operator": "greater_or_equal", "value": 18}]}) '
    "hold, the session goes to `then_step_id`, else to `else_step_id`. It decides at once with the message "
    "that entered it; `wait: true` makes it send `text` and decide on the user's answer instead."
)


class Config(PresetConfig):
    rules: Rules = Field(description="The condition (jQuery-QueryBuilder rules)")
    then_step_id: StepRef = Field(description="Where the session goes when the rules hold")
    else_step_id: StepRef = Field(description="Where it goes otherwise")
    text: Text = Field(default="", description="What the step sends when entered (may be empty)")
    wait: bool = Field(default=False, description="Decide on the user's next message instead of at once")


async def build(config: Config, builder: Builder) -> Step:
    step = await builder.step(text=config.text, proxy=not config.wait)
    group = await builder.group(step)
    await builder.connect(group, config.then_step_id, rules=config.rules, priority=1)
    await builder.connect(group, config.else_step_id, priority=0)
    return step
