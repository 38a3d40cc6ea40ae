"""``GET /api/v1/presets`` (each preset with its config schema) and
``POST /api/v1/bots/{bot_id}/presets`` (apply one to the bot's draft). Thin: the logic is in
:mod:`agenthub.scenarios.presets.service`."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, status
from starlette.requests import HTTPConnection

from agenthub.audit.deps import AuditDep
from agenthub.deps import CallerDep, SessionDep
from agenthub.json_input import StrictJSONRoute
from agenthub.ops.openapi import error_responses
from agenthub.scenarios.presets import PresetRegistry, default_presets
from agenthub.scenarios.presets import service as presets_service
from agenthub.scenarios.presets.schemas import PresetApplied, PresetApply, PresetList, PresetRead

router = APIRouter(prefix="/api/v1", tags=["bots"], route_class=StrictJSONRoute)
BotId = Annotated[str, Path(min_length=1, max_length=64, description="The bot's id")]


def registry(connection: HTTPConnection) -> PresetRegistry:
    """The app's presets (``app.state.scenario_presets``), else the built-in ones."""
    found = getattr(connection.app.state, "scenario_presets", None)
    return found if isinstance(found, PresetRegistry) else default_presets()


@router.get("/presets", response_model=PresetList)
async def list_presets(caller: CallerDep, connection: HTTPConnection) -> PresetList:
    """Each preset with the JSON Schema of its `config`."""
    items = [PresetRead.model_validate(found) for found in registry(connection).describe()]
    return PresetList(items=items, total=len(items))


@router.post("/bots/{bot_id}/presets", status_code=status.HTTP_201_CREATED, response_model=PresetApplied,
             responses=error_responses(404))
async def apply_preset(
    bot_id: BotId, data: PresetApply, caller: CallerDep, session: SessionDep, audit: AuditDep,
    connection: HTTPConnection,
) -> PresetApplied:
    """Add a preset's steps, connection groups and connections to the bot's draft, all or
    nothing. An unknown preset is a 422 on `preset`, a bad config a 422 naming the field
    (`config.retry_text`), a step the config names that is not of this bot a 422 on it."""
    applied = await presets_service.apply_preset(
        session, caller=caller, bot_id=bot_id, data=data, presets=registry(connection),
    )
    audit.record(session, action="bot.preset", resource_type="bot", resource_id=bot_id,
                 after={"preset": applied.preset, "preset_id": applied.preset_id})
    return applied
