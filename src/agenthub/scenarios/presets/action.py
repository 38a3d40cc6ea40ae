"""``code`` and ``integration``: a step that runs an action, saves parts of its result to
variables, and goes on (to another step when the action failed, if one is named)."""

from __future__ import annotations

from typing import Any

from pydantic import Field

from agenthub.scenarios.document import IntegrationAction
from agenthub.scenarios.models import Step
from agenthub.scenarios.presets.base import Builder, PresetConfig, StepRef, VariableName, rule
from agenthub.scenarios.schemas import Code, GroupVariables

CODE = "code"
CODE_DESCRIPTION = (
    "A step that runs `code` (`async def main(message, variables)` returning a dict, in the sandbox) at once, "
    "saves parts of its result with `variables` (variable -> JSONPath, e.g. {\"session.total\": \"$.total\"}) "
    "and goes on to `next_step_id`; with `error_step_id`, a failed run goes there instead (its error in "
    "`error_variable`)."
)
INTEGRATION = "integration"
INTEGRATION_DESCRIPTION = (
    "A step that runs an integration at once (`integration`: {name, config}; GET /api/v1/scenario_integrations "
    "lists them with their config schemas, e.g. telegram.send_message, email.send), saves parts of its result "
    "with `variables` and goes on to `next_step_id`; with `error_step_id`, a failure goes there instead (its "
    "error in `error_variable`)."
)


class _ActionConfig(PresetConfig):
    variables: GroupVariables = Field(default_factory=dict, description="Variable -> JSONPath over the result")
    next_step_id: StepRef = Field(description="Where the session goes after the action")
    error_step_id: StepRef | None = Field(default=None, description="Where it goes when the action failed")
    error_variable: VariableName = Field(default="session.error", description="Where the error is saved")


class CodeConfig(_ActionConfig):
    code: Code = Field(min_length=1, description="`async def main(message, variables)` returning a dict")


class IntegrationConfig(_ActionConfig):
    integration: IntegrationAction = Field(description="{name, config}: the integration and its config")


async def _build(config: _ActionConfig, builder: Builder, **action: Any) -> Step:
    variables = dict(config.variables)
    if config.error_step_id is not None:
        variables[config.error_variable] = "$.error"
    step = await builder.step(proxy=True)
    group = await builder.group(step, variables=variables, **action)
    if config.error_step_id is not None:
        await builder.connect(group, config.error_step_id, rules=rule(config.error_variable, "is_not_empty"),
                              priority=1)
    await builder.connect(group, config.next_step_id, priority=0)
    return step


async def build_code(config: CodeConfig, builder: Builder) -> Step:
    return await _build(config, builder, search_type="code", code=config.code)


async def build_integration(config: IntegrationConfig, builder: Builder) -> Step:
    return await _build(config, builder, search_type="integration", integration=config.integration)
