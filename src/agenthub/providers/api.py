"""Provider routes: thin; the logic is in :mod:`agenthub.providers.service`."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query
from starlette.requests import HTTPConnection

from agenthub.deps import CallerDep
from agenthub.ops.openapi import error_responses
from agenthub.outbound.guard import OutboundGuard
from agenthub.providers import service
from agenthub.providers.schemas import ModelList, ProviderList, ProviderName

BASE_URL_PATTERN = r"^https?://[^/?#\s@]+"
"""An http(s) URL with a host; where it leads is the outbound guard's decision, at the request."""

router = APIRouter(prefix="/api/v1/providers", tags=["providers"])


def _health(connection: HTTPConnection) -> service.ProviderHealth:
    health: service.ProviderHealth = connection.app.state.provider_health
    return health


def _guard(connection: HTTPConnection) -> OutboundGuard:
    guard: OutboundGuard = connection.app.state.outbound_guard
    return guard


@router.get("", response_model=ProviderList)
async def list_providers(_caller: CallerDep, health: Annotated[service.ProviderHealth, Depends(_health)]) -> ProviderList:
    """The model providers agents may use, each with its health: whether its platform key is
    set and whether it answered a short request for its models (checked every few seconds
    at most). No secrets: base URLs have their credentials masked."""
    return await health.providers()


@router.get(
    "/{provider}/models", response_model=ModelList,
    responses=error_responses(422, 502, meanings={
        422: "An unknown provider, or a `base_url` refused (`outbound_refused`) or missing",
        502: "The endpoint did not list its models",
    }),
)
async def list_models(
    provider: ProviderName,
    caller: CallerDep,
    request: HTTPConnection,
    base_url: Annotated[
        str | None,
        Query(
            min_length=1, max_length=2000, pattern=BASE_URL_PATTERN,
            description="The endpoint to ask (an agent's `base_url`); unset: the provider's own. Loopback and "
            "private addresses only for owners and admins",
        ),
    ] = None,
) -> ModelList:
    """The models an endpoint offers (its OpenAI-compatible `/models`, or Ollama's
    `/api/tags`), for an agent's `model_id`."""
    return await service.list_models(
        request.app.state.settings, _guard(request), caller=caller, provider=provider, base_url=base_url
    )
