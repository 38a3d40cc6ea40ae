"""``switch``: the first case whose value the field has picks the next step."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from agenthub.fields import JsonValue
from agenthub.scenarios.document import Text
from agenthub.scenarios.models import Step
from agenthub.scenarios.presets.base import Builder, PresetConfig, StepRef, rule
from agenthub.scenarios.rules import validate_rules

NAME = "switch"
DESCRIPTION = (
    "SWITCH/CASE: `field` (message.text by default, or a variable such as session.plan) is compared with each "
    "case's `value` in order (`operator` equal by default; also contains, begins_with, in, greater...); the "
    "first case that holds sends the session to its `next_step_id`, none to `default_step_id`. It decides at "
    "once with the message that entered it; `wait: true` makes it send `text` and decide on the user's answer."
)
Operator = Literal["equal", "not_equal", "contains", "begins_with", "ends_with", "in", "less", "less_or_equal",
                   "greater", "greater_or_equal", "matches"]


class Case(BaseModel):
    model_config = ConfigDict(extra="forbid")

    value: JsonValue = Field(description="What the field is compared with (may use variables)")
    next_step_id: StepRef = Field(description="Where the session goes when this case holds")
    operator: Operator = "equal"

    @model_validator(mode="after")
    def _comparable(self) -> Case:
        try:
            validate_rules({"field": "message.text", "operator": self.operator, "value": self.value})
        except ValueError as error:
            raise ValueError(str(error).removeprefix("rules.")) from None
        return self


class Config(PresetConfig):
    field: str = Field(default="message.text", min_length=1, max_length=200, description="What is compared")
    cases: list[Case] = Field(min_length=1, max_length=100, description="Tried in order")
    default_step_id: StepRef | None = Field(
        default=None, description="Where the session goes when no case holds (none: it stays in the switch step)"
    )
    case_sensitive: bool = Field(default=True, description="false: text is compared ignoring case")
    text: Text = Field(default="", description="What the step sends when entered (may be empty)")
    wait: bool = Field(default=False, description="Decide on the user's next message instead of at once")


async def build(config: Config, builder: Builder) -> Step:
    step = await builder.step(text=config.text, proxy=not config.wait)
    group = await builder.group(step)
    for index, case in enumerate(config.cases):
        rules = rule(config.field, case.operator, case.value, case_sensitive=config.case_sensitive)
        await builder.connect(group, case.next_step_id, rules=rules, priority=len(config.cases) - index)
    if config.default_step_id is not None:
        await builder.connect(group, config.default_step_id, priority=0)
    return step
