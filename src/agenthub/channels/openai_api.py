"""The OpenAI-compatible API: ``POST /v1/chat/completions`` (streaming or not), ``GET
/v1/models`` and ``GET /v1/models/{model}``, so any OpenAI client (base URL
``http://HOST:PORT/v1``, an AgentHub API key or access token as its API key) talks to
agents. A model is an agent; who may use which is decided as for the SSE chat route
(:meth:`agenthub.channels.gateway.Gateway.reach`), and turns are paid for and limited by
budgets as any other. What is sent and which conversation it continues: see
:mod:`agenthub.channels.openai_turns`; errors are OpenAI's shape: see
:mod:`agenthub.channels.openai_errors`."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Path, Request
from fastapi.responses import JSONResponse
from starlette.responses import Response

from agenthub.access.rules import Reach, Sender, web_sender
from agenthub.agents import service as agents_service
from agenthub.caller import Caller
from agenthub.channels import openai_turns as turns
from agenthub.channels.event_stream import EventStream
from agenthub.channels.gateway import Gateway
from agenthub.channels.openai_schemas import (
    ChatCompletion,
    ChatCompletionRequest,
    Model,
    ModelList,
    OpenAIErrorResponse,
)
from agenthub.deps import CallerDep, SessionDep, SettingsDep
from agenthub.errors import NotFound
from agenthub.fields import NUL_FREE
from agenthub.gateway_deps import GatewayDep
from agenthub.json_input import StrictJSONRoute
from agenthub.ops.openapi import BEARER

router = APIRouter(prefix="/v1", tags=["openai"], route_class=StrictJSONRoute)

SECURED: dict[str, Any] = {"security": [{BEARER: []}]}
MEANINGS = {
    400: "The body is refused (`invalid_request_error`, `param` names the field): not JSON, a value refused, "
         "or a last message that is not the user's",
    401: "No API key, or none that is valid now (`invalid_api_key`)",
    402: "A budget is spent (`insufficient_quota`): nothing was sent to the agent",
    403: "The agent needs an authorisation the caller lacks, is a member's personal agent, or the request came "
         "from a page of another site",
    404: "No such model (`model_not_found`): no agent of that id that the caller may use",
    409: "The agent kept failing and was stopped (`agent_failed`), or was stopped before it answered "
         "(`agent_stopped`)",
    413: "The body is larger than the server takes",
    415: "The body is not JSON",
    429: "Too many requests (`rate_limit_exceeded`): wait the seconds `Retry-After` says",
    500: "The agent could not answer (`agent_error`: its model failed, say)",
    503: "The database or the bus is unreachable; try again",
    504: "No answer within the turn's time limit (`timeout`): the message is kept and will be answered",
}


def _errors(*statuses: int) -> dict[int | str, dict[str, Any]]:
    return {status: {"description": MEANINGS[status], "model": OpenAIErrorResponse} for status in statuses}


ModelName = Annotated[str, Path(min_length=1, max_length=128, pattern=NUL_FREE, description="The agent's id")]


def _sender(caller: Caller, http: Request) -> Sender:
    return web_sender(caller, http.client.host if http.client else None)


async def _reach(gateway: Gateway, caller: Caller, model: str, sender: Sender) -> Reach:
    """The agent ``model`` names, if the caller may use it; 404 ``model_not_found`` if not."""
    try:
        return await gateway.reach(caller=caller, agent_id=model, sender=sender)
    except NotFound as error:
        raise NotFound(
            f"The model {model!r} does not exist or you do not have access to it", code="model_not_found"
        ) from error


@router.get("/models", response_model=ModelList, openapi_extra=SECURED, responses=_errors(401, 429, 503))
async def list_models(caller: CallerDep, session: SessionDep, http: Request) -> ModelList:
    """The agents of your organisation you may chat with (at most 1000), each a model: its
    `id` is what to send as `model`. Another organisation's public agent is used by its
    address, and is not listed."""
    return ModelList(data=await turns.usable_agents(session, caller=caller, sender=_sender(caller, http)))


@router.get(
    "/models/{model}", response_model=Model, openapi_extra=SECURED, responses=_errors(400, 401, 403, 404, 429, 503)
)
async def retrieve_model(
    model: ModelName, caller: CallerDep, gateway: GatewayDep, session: SessionDep, http: Request
) -> Model:
    """One agent you may chat with, as a model."""
    reach = await _reach(gateway, caller, model, _sender(caller, http))
    return turns.as_model(await agents_service.find(session, agent_id=reach.agent_id), name=model)


@router.post(
    "/chat/completions", response_model=None, status_code=200, openapi_extra=SECURED,
    responses={
        200: {
            "model": ChatCompletion,
            "description": "The answer: a `chat.completion`, or with `stream` `chat.completion.chunk` events, then "
                           "`data: [DONE]`",
            "content": {"text/event-stream": {}},
        },
        **_errors(400, 401, 402, 403, 404, 409, 413, 415, 429, 500, 503, 504),
    },
)
async def chat_completions(
    request: ChatCompletionRequest, caller: CallerDep, gateway: GatewayDep, settings: SettingsDep, http: Request
) -> Response:
    """Send the last message of `messages` (the user's) to the agent `model` and answer with
    its reply. AgentHub keeps the conversation: earlier and system messages are not sent.
    The conversation is `chat_id` if given, else your own (per API key or user, and per
    `user`); the answer's `chat_id` names it. Refusals (401, 402, 403, 404, 409, 429) come
    before any stream, as JSON."""
    sender = _sender(caller, http)
    reach = await _reach(gateway, caller, request.model, sender)
    message = turns.chat_request(
        request, chat_id=turns.conversation(sender, chat_id=request.chat_id, user=request.user)
    )
    listener, accepted = await gateway.send(reach=reach, request=message)
    headers = {"X-Chat-Id": accepted.chat_id, "X-Message-Id": accepted.message_id}
    if request.stream:
        include_usage = bool(request.stream_options and request.stream_options.include_usage)
        events = turns.stream(
            gateway, listener, accepted, model=request.model, include_usage=include_usage,
            keepalive=settings.sse_keepalive_interval,
        )
        return EventStream(events, headers=headers, on_close=listener.close)
    try:
        completion = await turns.complete(gateway, listener, accepted, model=request.model)
    finally:
        await listener.close()
    return JSONResponse(completion.model_dump(), headers=headers)
