"""``ask``: ask for a value, check it, ask again with a retry text until it is right, save it.

Steps: the question (waits), the retry (waits) and a save step (a proxy step whose
``message`` group saves ``$.text`` of the message to the variable and goes on). A valid
answer to the question or the retry enters the save step; anything else enters the retry.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import Field

from agenthub.scenarios.document import Button, Text
from agenthub.scenarios.models import Step
from agenthub.scenarios.presets.base import Builder, PresetConfig, StepRef, VariableName, needed

NAME = "ask"
DESCRIPTION = (
    "Ask the user for a value and save it: sends `question`, checks the answer by `kind` (`email`, `number` "
    "(within `min`/`max` if given), `date` (in `date_format`), `choice` (one of `choices`, [{\"text\", \"value\"}] shown as buttons; "
    "typed text is accepted ignoring case) or any non-empty `text`), sends `retry_text` and waits again while "
    "it is not valid, then saves the answer as text to `variable` and goes on to `next_step_id`."
)
Kind = Literal["text", "email", "number", "date", "choice"]
DateFormat = Literal["YYYY-MM-DD", "DD.MM.YYYY", "MM/DD/YYYY"]

EMAIL = r"^[^@\s]+@[^@\s]+\.[^@\s.]+$"
NUMBER = r"^[-+]?[0-9]+(\.[0-9]+)?$"
_DAY, _MONTH, _YEAR = r"(0[1-9]|[12][0-9]|3[01])", r"(0[1-9]|1[0-2])", r"[0-9]{4}"
DATES: dict[str, str] = {
    "YYYY-MM-DD": f"^{_YEAR}-{_MONTH}-{_DAY}$",
    "DD.MM.YYYY": fr"^{_DAY}\.{_MONTH}\.{_YEAR}$",
    "MM/DD/YYYY": f"^{_MONTH}/{_DAY}/{_YEAR}$",
}


class Config(PresetConfig):
    question: Text = Field(min_length=1, description="What the bot asks")
    kind: Kind = Field(default="text", description="What a valid answer is")
    variable: VariableName = Field(description="Where the valid answer is saved, e.g. session.email")
    retry_text: Text = Field(
        default="That doesn't look right. Please try again.", min_length=1,
        description="What the bot says when the answer is not valid (then it waits again)",
    )
    next_step_id: StepRef = Field(description="Where the session goes once the answer is saved")
    choices: list[Button] = Field(default_factory=list, max_length=100, description="`choice`: the options")
    min: float | None = Field(default=None, description="`number`: the smallest valid number")
    max: float | None = Field(default=None, description="`number`: the largest valid number")
    date_format: DateFormat = Field(default="YYYY-MM-DD", description="`date`: how the date is written")


def _matches(pattern: str) -> dict[str, Any]:
    return {"field": "message.text", "operator": "matches", "value": pattern}


def valid_rules(config: Config) -> dict[str, Any]:
    """The rules a valid answer holds."""
    checks: list[dict[str, Any]]
    if config.kind == "email":
        checks = [_matches(EMAIL)]
    elif config.kind == "number":
        checks = [_matches(NUMBER)]
        if config.min is not None:
            checks.append({"field": "message.text", "operator": "greater_or_equal", "value": config.min})
        if config.max is not None:
            checks.append({"field": "message.text", "operator": "less_or_equal", "value": config.max})
    elif config.kind == "date":
        checks = [_matches(DATES[config.date_format])]
    elif config.kind == "choice":
        values = [choice.value if choice.value is not None else choice.text for choice in config.choices]
        checks = [{"field": "message.text", "operator": "in", "value": values, "case_sensitive": False}]
    else:
        checks = [{"field": "message.text", "operator": "is_not_empty"}]
    return {"condition": "AND", "rules": checks}


def _check(config: Config) -> None:
    if config.kind == "choice" and not config.choices:
        raise needed("choices", "a `choice` question needs its choices")
    if config.kind != "choice" and config.choices:
        raise needed("choices", "only a `choice` question has choices")
    if config.min is not None and config.max is not None and config.min > config.max:
        raise needed("max", "max is below min")


async def build(config: Config, builder: Builder) -> Step:
    _check(config)
    buttons = config.choices or None
    question = await builder.step(text=config.question, buttons=buttons)
    retry = await builder.step("retry", text=config.retry_text, buttons=buttons)
    save = await builder.step("save", proxy=True)
    saving = await builder.group(save, variables={config.variable: "$.text"})
    await builder.connect(saving, config.next_step_id)
    valid = valid_rules(config)
    for step in (question, retry):
        group = await builder.group(step)
        await builder.connect(group, save.id, rules=valid, priority=1)
        await builder.connect(group, retry.id, priority=0)
    return question
