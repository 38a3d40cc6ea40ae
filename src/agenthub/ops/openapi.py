"""The OpenAPI document as the server behaves: every error an operation can answer is
declared, with the one JSON error shape every error has (FastAPI by itself declares only
its own 422 body, which the server never sends).

Which errors an operation can answer follows from its shape, so routes added later are
described without a line of their own:

- any operation under ``/api/``: 503 (the database or the bus is unreachable);
- an operation with parameters or a body: 422 (a value refused, with ``details``);
- one with a path parameter: 404 (no such agent, chat, ...);
- one with a JSON body: 400 (not valid JSON), 413 (larger than the limit), 415 (not JSON);
- one that changes something (not GET, HEAD, OPTIONS): 403 (sent by a page of another site
  whose origin is not allowed; see :mod:`agenthub.channels.origins`);
- any operation under ``/api/`` needs a bearer token (an access token or an API key): 401
  without one, 429 over the rate limit; a route anybody may call says so with
  ``openapi_extra=PUBLIC`` (it still answers 429).

A route declares what only it can answer (409 on a create) in its decorator's
``responses``, with :func:`error_responses`. Paths under an ``own_errors`` prefix (the
OpenAI-compatible ``/v1/``, whose errors have OpenAI's shape) declare all their errors
themselves and are left as they say.
"""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi

from agenthub.ops.schemas import ErrorResponse

ERROR_REF = {"$ref": "#/components/schemas/ErrorResponse"}
BEARER = "bearer"
PUBLIC: dict[str, Any] = {"security": []}
"""``openapi_extra`` of a route that needs no credentials."""
BEARER_OR_ANONYMOUS: dict[str, Any] = {"security": [{BEARER: []}, {}]}
"""``openapi_extra`` of a route that takes credentials but may also be called without (a
public agent's chat): 401 when the agent needs them."""
ERROR_MEANINGS = {
    400: "The body is not valid JSON",
    401: "No credentials, or none that are valid now (expired, forged, revoked)",
    402: "A budget is spent (`budget_exceeded`): nothing was sent to the model",
    403: "Sent by a page of another site, whose origin is not allowed",
    404: "Not found (or another organisation's)",
    409: "It exists already",
    413: "The body is larger than the server takes",
    415: "The body is not JSON (or is sent compressed)",
    422: "A value was refused; `details` names each field",
    429: "Too many requests: wait the seconds `Retry-After` says",
    503: "The database or the bus is unreachable; try again",
}
FASTAPI_VALIDATION_SCHEMAS = ("HTTPValidationError", "ValidationError")


def error_responses(*statuses: int, meanings: dict[int, str] | None = None) -> dict[int | str, dict[str, Any]]:
    """``responses=`` for a route decorator: these statuses, with the JSON error body; what
    each means is :data:`ERROR_MEANINGS`' unless ``meanings`` says it for this route."""
    said = {**ERROR_MEANINGS, **(meanings or {})}
    return {status: {"description": said[status], "model": ErrorResponse} for status in statuses}


def install_openapi(app: FastAPI, *, own_errors: tuple[str, ...] = ()) -> None:
    """Make ``app.openapi()`` (and ``/openapi.json``) return the completed document;
    operations under the ``own_errors`` path prefixes keep the errors they declare."""

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            document = get_openapi(
                title=app.title, version=app.version, description=app.description, routes=app.routes,
                tags=app.openapi_tags,
            )
            complete_errors(document, own_errors=own_errors)
            app.openapi_schema = document
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]


def complete_errors(document: dict[str, Any], *, own_errors: tuple[str, ...] = ()) -> None:
    components = document.setdefault("components", {}).setdefault("schemas", {})
    error_schema = ErrorResponse.model_json_schema(ref_template="#/components/schemas/{model}")
    components.update(error_schema.pop("$defs", {}))
    components["ErrorResponse"] = error_schema
    document["components"].setdefault("securitySchemes", {})[BEARER] = {
        "type": "http", "scheme": "bearer",
        "description": "An access token (`POST /api/v1/auth/login`) or an API key (`POST /api/v1/api-keys`)",
    }
    for path, operations in document.get("paths", {}).items():
        if own_errors and path.startswith(own_errors):
            for operation in operations.values():  # FastAPI's own 422, never sent, whose schema goes below
                operation.get("responses", {}).pop("422", None)
            continue
        for method, operation in operations.items():
            if path.startswith("/api/") and "security" not in operation:
                operation["security"] = [{BEARER: []}]
            responses = operation.setdefault("responses", {})
            for status in _errors_of(path, method, operation):
                responses[str(status)] = {
                    "description": ERROR_MEANINGS[status],
                    "content": {"application/json": {"schema": ERROR_REF}},
                }
    for name in FASTAPI_VALIDATION_SCHEMAS:
        components.pop(name, None)


def _errors_of(path: str, method: str, operation: dict[str, Any]) -> list[int]:
    parameters = operation.get("parameters", [])
    body = "application/json" in operation.get("requestBody", {}).get("content", {})
    statuses: set[int] = set()
    if path.startswith("/api/"):
        statuses.update((503, 429))
        if operation.get("security"):
            statuses.add(401)
    if parameters or body or "422" in operation.get("responses", {}):
        statuses.add(422)
    if any(parameter.get("in") == "path" for parameter in parameters):
        statuses.add(404)
    if body:
        statuses.update((400, 413, 415))
    if method.upper() not in ("GET", "HEAD", "OPTIONS"):
        statuses.add(403)
    return sorted(statuses)
