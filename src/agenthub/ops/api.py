"""Health and metrics. ``/health`` is public and shows no organisation's data (which parts
work, counts); ``/metrics`` (counts over every organisation) is the operators' (owners and
admins of the default organisation), or ``METRICS_TOKEN``'s as the bearer token when set."""

from __future__ import annotations

import asyncio
import hmac
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import JSONResponse, PlainTextResponse, Response
from sqlalchemy import text
from starlette.requests import HTTPConnection

from agenthub.caller import DEFAULT_ORG, bearer_token, resolve_caller
from agenthub.deps import SettingsDep
from agenthub.errors import Forbidden, ServiceUnavailable, Unauthorized
from agenthub.ops.openapi import BEARER, ERROR_MEANINGS, ERROR_REF, PUBLIC
from agenthub.ops.schemas import HealthReport

router = APIRouter(tags=["operations"])
CHECK_TIMEOUT = 3.0


async def _check(probe) -> dict:  # type: ignore[no-untyped-def]
    try:
        detail = await asyncio.wait_for(probe(), CHECK_TIMEOUT)
        return {"ok": True, **(detail or {})}
    except Exception as error:  # noqa: BLE001 - health reports, never raises
        return {"ok": False, "error": type(error).__name__}


async def _metrics_reader(connection: HTTPConnection, settings: SettingsDep) -> None:
    """``METRICS_TOKEN`` (when set) as the bearer token, or an operator's access token (an
    owner or admin of the default organisation): 401 without credentials (or with ones that
    are not valid), 403 for anyone else."""
    token = bearer_token(connection)
    expected = settings.metrics_token
    if token is not None and expected is not None and hmac.compare_digest(
        token.encode(), expected.get_secret_value().encode()
    ):
        return
    caller = await resolve_caller(connection, connection.app.state.authenticator)
    if caller is None:
        raise Unauthorized("send an owner's or admin's access token (or METRICS_TOKEN) as 'Authorization: Bearer'")
    if not caller.is_user or not caller.at_least("admin") or caller.org_id != DEFAULT_ORG:
        raise Forbidden(
            "only the operators of this install (owners or admins of its default organisation) or "
            "METRICS_TOKEN may read the metrics"
        )


MetricsReaderDep = Annotated[None, Depends(_metrics_reader)]
# JSON errors, said explicitly: FastAPI would put them under the route's text/plain.
METRICS_ERRORS: dict[int | str, dict[str, Any]] = {
    status: {"description": meaning, "content": {"application/json": {"schema": ERROR_REF}}}
    for status, meaning in (
        (401, ERROR_MEANINGS[401]), (403, "Not an operator of this install"), (429, ERROR_MEANINGS[429]),
    )
}


@router.get(
    "/health",
    response_model=HealthReport,
    openapi_extra=PUBLIC,
    responses={503: {"model": HealthReport, "description": "A check failed: the report says which"}},
)
async def health(request: Request) -> JSONResponse:
    """Which parts work: `database`, `bus`, `supervisor`, `queues` (dead letters are shown,
    not counted against health) and `sandbox` (the code sandbox: its `status`, the `layers`
    active, the `missing` ones with their reasons, the `required` ones; `starting`, `ready`
    and `restarting` are ok, `unavailable` is not: a layer `SANDBOX_REQUIRED_LAYERS` names is
    missing, or the sandbox could not start). 503 when a check other than `queues` fails."""
    state = request.app.state

    async def database() -> dict:
        async with state.engine.connect() as connection:
            await connection.execute(text("SELECT 1"))
        return {"backend": state.engine.dialect.name}

    async def bus() -> dict:
        await state.bus.ping()
        return {"backend": state.bus.name}

    async def supervisor() -> dict:
        task = state.supervisor_task
        if task is None or task.done():
            raise ServiceUnavailable("supervisor loop is not running")
        return {"managed_agents": len(state.supervisor.managed)}

    async def queues() -> dict:
        # Dead letters do not make AgentHub unhealthy (storage goes on): they are shown.
        return await state.dead_letters.health()

    async def sandbox() -> dict:
        # Layer names and reasons only: /health is public.
        return state.sandbox.health()

    checks = {
        "database": await _check(database),
        "bus": await _check(bus),
        "supervisor": await _check(supervisor),
        "queues": await _check(queues),
        "sandbox": await _check(sandbox),
    }
    healthy = all(check["ok"] for name, check in checks.items() if name != "queues")
    return JSONResponse({"status": "ok" if healthy else "degraded", "checks": checks}, status_code=200 if healthy else 503)


@router.get(
    "/metrics",
    response_class=PlainTextResponse,
    responses={200: {
        "description": "Prometheus metrics, in its text exposition format",
        "content": {"text/plain": {"schema": {"type": "string"}}},
    }, **METRICS_ERRORS},
    openapi_extra={"security": [{BEARER: []}]},
)
async def metrics(request: Request, _reader: MetricsReaderDep) -> Response:
    state = request.app.state
    try:
        for queue, count in (await asyncio.wait_for(state.dead_letters.counts(), CHECK_TIMEOUT)).items():
            state.metrics.dead_letters.labels(queue=queue).set(count)
    except Exception:  # noqa: BLE001, S110 - with the bus away the gauge keeps its last value
        pass
    return Response(state.metrics.render(), media_type="text/plain; version=0.0.4")
