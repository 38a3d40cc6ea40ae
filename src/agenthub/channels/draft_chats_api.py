"""Test chats over REST, ``/api/v1/bots/{bot_id}/test``: thin; the logic is
:mod:`agenthub.channels.draft_chats` (shared with the MCP tool ``test_bot``)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, status

from agenthub.channels.draft_chats import TestAnswer, TestMessage, reset_test, send_test
from agenthub.deps import CallerDep, SessionFactoryDep
from agenthub.gateway_deps import GatewayDep
from agenthub.json_input import StrictJSONRoute
from agenthub.ops.openapi import error_responses

router = APIRouter(prefix="/api/v1/bots/{bot_id}/test", tags=["bots"], route_class=StrictJSONRoute)

BotId = Annotated[str, Path(min_length=1, max_length=64, description="The bot's id")]


@router.post("", response_model=TestAnswer, response_model_exclude_none=True,
             responses=error_responses(402, 404, 429))
async def test_bot(
    bot_id: BotId, data: TestMessage, caller: CallerDep, sessions: SessionFactoryDep, gateway: GatewayDep
) -> TestAnswer:
    """Send a message to the bot's draft (unpublished edits included) as your test user and
    get back the messages it sent, in a test session apart from real users'. A draft that
    is not a valid bot yet is a 422 saying where."""
    return await send_test(sessions=sessions, gateway=gateway, caller=caller, bot_id=bot_id, message=data)


@router.delete("", status_code=status.HTTP_204_NO_CONTENT, responses=error_responses(404))
async def reset_test_chat(bot_id: BotId, caller: CallerDep, sessions: SessionFactoryDep, gateway: GatewayDep) -> None:
    """Forget your test session with the bot: your next test message starts at the draft's first step."""
    await reset_test(sessions=sessions, gateway=gateway, caller=caller, bot_id=bot_id)
