"""What ``/api/v1/presets`` and ``POST /api/v1/bots/{id}/presets`` take and give."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from agenthub.fields import JsonObject
from agenthub.scenarios.schemas import ConnectionRead, GroupRead, StepRead


class PresetApply(BaseModel):
    model_config = ConfigDict(extra="forbid")

    preset: str = Field(min_length=1, max_length=64, description="A preset's name (`GET /api/v1/presets` lists them)")
    config: JsonObject = Field(default_factory=dict, description="The preset's config (its `config_schema`)")


class PresetRead(BaseModel):
    preset: str
    description: str
    config_schema: dict[str, Any] = Field(description="JSON Schema of the preset's `config`")


class PresetList(BaseModel):
    items: list[PresetRead]
    total: int


class PresetApplied(BaseModel):
    preset: str
    preset_id: str = Field(description="One id for the rows this application made, recorded on its steps")
    entry_step_id: str = Field(description="The step the preset is entered by (connect to it)")
    steps: list[StepRead]
    connection_groups: list[GroupRead] = Field(
        description="Its groups; with `from_step_id`, also the group added to that step"
    )
    connections: list[ConnectionRead]
