"""Applying a preset to a bot's draft: all its rows in the caller's transaction, or none.

Order of the checks: the bot (404 for another organisation's), the preset's name (422 on
``preset``), its config (422 naming the field: ``config.retry_text``), then every step the
config names (422 on ``config.then_step_id`` when it is not a step of this bot), and the rows it makes are
checked as parts saved over REST are (scenarios/checks.py: 422 on ``config.code``,
``config.variables.<name>``, ``config.integration.name``). An error
raised while building leaves the transaction to be rolled back by its owner (the route's
session, the MCP tool's ``session_scope``): nothing is half-written.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from pydantic import ValidationError
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from agenthub.caller import Caller
from agenthub.errors import InvalidInput, field_path, plain_problem
from agenthub.scenarios.export import new_id
from agenthub.scenarios.models import ConnectionGroup
from agenthub.scenarios.presets import PresetRegistry
from agenthub.scenarios.presets.base import Builder, PresetConfig
from agenthub.scenarios.presets.schemas import PresetApplied, PresetApply
from agenthub.scenarios.schemas import ConnectionRead, GroupRead, StepRead
from agenthub.scenarios.service import bot_of, step_in_bot


def _config(model: type[PresetConfig], config: dict[str, Any]) -> PresetConfig:
    try:
        return model.model_validate(config)
    except ValidationError as error:
        problem = error.errors()[0]
        where = field_path(problem["loc"])
        field = f"config{'.' + where if where else ''}"
        said = plain_problem(problem["msg"])
        raise InvalidInput(f"{field}: {said}", field=field, problem=said) from None


def step_refs(value: Any, where: str = "config") -> Iterator[tuple[str, str]]:
    """``(field, step id)`` for every ``*step_id`` in a config (lists and objects included)."""
    if isinstance(value, dict):
        for key, item in value.items():
            at = f"{where}.{key}"
            if key.endswith("step_id") and isinstance(item, str):
                yield at, item
            else:
                yield from step_refs(item, at)
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from step_refs(item, f"{where}.{index}")


async def apply_preset(
    session: AsyncSession, *, caller: Caller, bot_id: str, data: PresetApply, presets: PresetRegistry
) -> PresetApplied:
    """Add the preset's rows to the bot's draft (see the module)."""
    bot = await bot_of(session, caller, bot_id)
    preset = presets.get(data.preset)
    if preset is None:
        problem = f"no preset {data.preset!r} (there are: {', '.join(presets.names)})"
        raise InvalidInput(f"preset: {problem}", field="preset", problem=problem)
    config = _config(preset.config, data.config)
    for field, step_id in step_refs(config.model_dump(mode="json")):
        await step_in_bot(session, bot.id, step_id, field)
    builder = Builder(session, caller=caller, bot_id=bot.id, preset_id=new_id("pre"), name=config.name or preset.name)
    try:
        entry = await preset.build(config, builder)
    except ValidationError as error:  # a part the config made that the services' schemas refuse
        said = plain_problem(error.errors()[0]["msg"])
        raise InvalidInput(f"config: {said}", field="config", problem=said) from None
    except InvalidInput as error:  # a part the saved-parts checks refuse: code, JSONPaths, integration
        if error.field == "config" or error.field.startswith("config."):  # the preset named it already
            raise
        field = f"config.{error.field}"
        raise InvalidInput(f"{field}: {error.problem}", field=field, problem=error.problem) from None
    if config.from_step_id is not None:
        last = await session.scalar(
            select(func.max(ConnectionGroup.order)).where(ConnectionGroup.step_id == config.from_step_id)
        )
        source = await step_in_bot(session, bot.id, config.from_step_id, "config.from_step_id")
        group = await builder.group(source, order=min((last if last is not None else -1) + 1, 1_000_000))
        await builder.connect(group, entry.id)
    built = builder.built
    return PresetApplied(
        preset=preset.name, preset_id=builder.preset_id, entry_step_id=entry.id,
        steps=[StepRead.model_validate(row) for row in built.steps],
        connection_groups=[GroupRead.model_validate(row) for row in built.groups],
        connections=[ConnectionRead.model_validate(row) for row in built.connections],
    )
