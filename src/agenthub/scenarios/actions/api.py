"""``GET /api/v1/scenario_integrations``: the integrations an ``integration`` group may name,
each with the JSON Schema of its ``config`` (what a builder, or an AI assistant, fills in)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from pydantic import BaseModel, Field
from starlette.requests import HTTPConnection

from agenthub.deps import CallerDep
from agenthub.json_input import StrictJSONRoute
from agenthub.scenarios.actions.integrations import IntegrationRegistry, default_integrations

router = APIRouter(prefix="/api/v1/scenario_integrations", tags=["scenarios"], route_class=StrictJSONRoute)


class IntegrationRead(BaseModel):
    name: str = Field(description="What a group's `integration.name` says (`telegram.send_message`)")
    description: str
    config_schema: dict[str, Any] = Field(description="JSON Schema of the group's `integration.config`")


class IntegrationList(BaseModel):
    integrations: list[IntegrationRead]


def _registry(connection: HTTPConnection) -> IntegrationRegistry:
    actions = getattr(connection.app.state, "scenario_actions", None)
    registry = actions.deps.integrations if actions is not None else None
    return registry if isinstance(registry, IntegrationRegistry) else default_integrations()


@router.get("", response_model=IntegrationList)
async def list_integrations(caller: CallerDep, connection: HTTPConnection) -> IntegrationList:
    """Each integration with its config schema, by name."""
    return IntegrationList.model_validate({"integrations": _registry(connection).describe()})
