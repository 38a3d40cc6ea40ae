"""The MCP tool ``apply_preset``: a preset (:mod:`agenthub.scenarios.presets`) applied to a
bot's draft, as ``POST /api/v1/bots/{id}/presets`` does. Its description lists every
preset with its config fields, so a model can call it without reading the REST schema."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from agenthub.audit.service import Audit
from agenthub.caller import Caller
from agenthub.db.engine import session_scope
from agenthub.scenarios.presets import PresetRegistry, default_presets
from agenthub.scenarios.presets import service as presets_service
from agenthub.scenarios.presets.base import Preset
from agenthub.scenarios.presets.schemas import PresetApply

if TYPE_CHECKING:
    from agenthub.mcp.tools import Backend

PresetName = Literal["message", "conditional", "switch", "delay", "code", "integration", "ask", "split"]


class ApplyPreset(BaseModel):
    model_config = ConfigDict(extra="forbid")

    bot_id: Annotated[str, Field(min_length=1, max_length=64)] = Field(description="The bot whose draft gets it")
    preset: PresetName = Field(description="Which preset (see the tool's description)")
    config: dict[str, Any] = Field(
        default_factory=dict,
        description="The preset's config: the fields the tool's description lists for it. Step ids "
        "(`next_step_id`, `then_step_id`...) are ids of existing steps of the same bot (create them first)",
    )


def _fields(preset: Preset) -> str:
    schema = preset.config.model_json_schema()
    required = set(schema.get("required", []))
    names = [f"{name}{'*' if name in required else ''}" for name in schema.get("properties", {})]
    return ", ".join(names)


def description(presets: PresetRegistry) -> str:
    listed = "\n".join(f"- `{p.name}`: {p.description} Config: {_fields(p)}." for p in presets.presets)
    return (
        "Add a ready-made piece of a bot to its draft in one call: its steps, connection groups and connections, "
        "all or nothing. Returns `entry_step_id` (the step the piece is entered by: point a connection at it, or "
        "pass `from_step_id` in config to add one from an existing step) and every row made, each step carrying "
        "the returned `preset_id`. Every config takes `name` (the steps' name) and `from_step_id`. Fields marked "
        "* are required. Publish the bot (publish_bot) for users to get the change; test it with test_bot.\n"
        + listed
    )


async def apply_preset(backend: Backend, caller: Caller, args: dict[str, Any]) -> dict[str, Any]:
    data = ApplyPreset.model_validate(args)
    async with session_scope(backend.sessions) as session:
        applied = await presets_service.apply_preset(
            session, caller=caller, bot_id=data.bot_id, data=PresetApply(preset=data.preset, config=data.config),
            presets=default_presets(),
        )
        Audit(caller=caller, address=None, sessions=backend.sessions).record(
            session, action="bot.preset", resource_type="bot", resource_id=data.bot_id,
            after={"preset": applied.preset, "preset_id": applied.preset_id},
        )
        return applied.model_dump(mode="json")
