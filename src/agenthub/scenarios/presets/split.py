"""``split``: random A/B (/C...) branches by percentages.

A proxy step whose ``integration`` group draws ``random.number`` in ``[0, 100)`` into
``variable`` (kept: which branch a session took can be read and tested later); branch *i*
takes the draws below the sum of the percentages up to it (the last one takes the rest)."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field, field_validator

from agenthub.scenarios.actions.integrations import random_number
from agenthub.scenarios.models import Step
from agenthub.scenarios.presets.base import Builder, PresetConfig, StepRef, VariableName, rule

NAME = "split"
DESCRIPTION = (
    "Random A/B split: each session that passes goes to one of `branches` ({percent, next_step_id}; the "
    "percentages add up to 100) at random, in those proportions. The number drawn (0 to 100) is saved to "
    "`variable`."
)


class Branch(BaseModel):
    model_config = ConfigDict(extra="forbid")

    percent: float = Field(gt=0, le=100, description="The share of sessions that take this branch")
    next_step_id: StepRef = Field(description="Where those sessions go")


class Config(PresetConfig):
    branches: list[Branch] = Field(min_length=2, max_length=20, description="The branches; percents add up to 100")
    variable: VariableName = Field(default="session.split", description="Where the number drawn is saved")

    @field_validator("branches")
    @classmethod
    def _hundred(cls, branches: list[Branch]) -> list[Branch]:
        total = sum(branch.percent for branch in branches)
        if abs(total - 100) > 1e-6:
            raise ValueError(f"the percents add up to {total:g}, not 100")
        return branches


async def build(config: Config, builder: Builder) -> Step:
    step = await builder.step(proxy=True)
    draw = {"name": random_number.NAME, "config": {"low": 0, "high": 100}}
    group = await builder.group(step, search_type="integration", integration=draw,
                                variables={config.variable: "$.value"})
    bound = 0.0
    last = len(config.branches) - 1
    for index, branch in enumerate(config.branches):
        bound += branch.percent
        rules = {} if index == last else rule(config.variable, "less", round(bound, 6))
        await builder.connect(group, branch.next_step_id, rules=rules, priority=last - index)
    return step
