"""Test chats with a scenario bot's draft: a builder sends a message as a test user and
gets back the messages the bot sent (the MCP tool ``test_bot`` and ``POST
/api/v1/bots/{bot_id}/test`` both call :func:`send_test`).

The message goes through the gateway like any other (stored, put on the bot's input, the
bot started if it is not running) marked ``test``: the bot's host runs the draft,
unpublished edits included, in a test session apart from the builder's real one (its user
key starts with :data:`~agenthub.scenarios.sessions.TEST_PREFIX`; crons leave it alone).
A draft that is not a valid bot yet is refused before anything is sent, saying where it
is wrong. :func:`reset_test` forgets the caller's test session: the next test message
starts again at the draft's first step.
"""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import delete

from agenthub.access.rules import web_sender
from agenthub.caller import Caller
from agenthub.channels.events import shown_with
from agenthub.channels.gateway import Gateway, payer_of
from agenthub.chats.schemas import ChatRequest, Content
from agenthub.db.engine import SessionFactory, session_scope
from agenthub.errors import InvalidInput
from agenthub.fields import JsonObject, NoNul
from agenthub.scenarios import export, service
from agenthub.scenarios.models import ScenarioSession
from agenthub.scenarios.sessions import TEST_PREFIX, user_key_of

TEST_CHAT_ID = r"^[A-Za-z0-9_.:-]{1,64}$"
TestUserData = Annotated[JsonObject, Field(
    description="What the test user says of themselves, as a chat message's `user_data` (a JSON object): the bot "
    "reads its `first_name`, `last_name` and `username` as `user.*` (text, up to 128 characters each)",
)]
"""``user_data`` of a test message, over REST and MCP alike."""


class TestMessage(BaseModel):
    """A message to a bot's draft, as a test user."""

    __test__ = False  # not a test class (pytest collects classes named Test*)
    model_config = ConfigDict(extra="forbid")

    text: Content = Field(description="The message the test user sends (as a chat message's `content`)")
    button: Annotated[str, Field(max_length=200), NoNul()] | None = Field(
        default=None,
        description="The value of a button the test user presses (one of the `widget` buttons the bot sent); "
        "send it as `text` too",
    )
    chat_id: str | None = Field(
        default=None, pattern=TEST_CHAT_ID,
        description="Continue this test chat (the `chat_id` a previous test returned); omit to start one",
    )
    user_data: TestUserData = Field(default_factory=dict)


class TestAnswer(BaseModel):
    __test__ = False
    chat_id: str = Field(description="The test chat: send it back to continue it")
    ran: str = Field(description="`draft`: the bot's draft ran, unpublished edits included")
    messages: list[dict[str, Any]] = Field(
        description='What the bot sent, in order: `{text, widget?, attachments?}`, attachments as on the WebSocket: '
        '`[{"file_id", "download_path"}]`'
    )
    error: dict[str, Any] | None = Field(default=None, description="`{code, message}` when the turn failed")


async def send_test(
    *, sessions: SessionFactory, gateway: Gateway, caller: Caller, bot_id: str, message: TestMessage
) -> TestAnswer:
    """Send ``message`` to the bot's draft as the caller's test user and wait for what the
    bot sends; NotFound for a bot not the caller's, InvalidInput saying where the draft is
    not a valid bot."""
    async with sessions() as session:
        bot = await service.bot_of(session, caller, bot_id)
        try:  # what is wrong with the draft, said here rather than as a failed turn of the bot
            await export.draft_document(session, bot.id)
        except InvalidInput as invalid:
            raise InvalidInput(
                f"the draft can't be tested: {invalid.message}", field=invalid.field, problem=invalid.problem
            ) from None
    reach = await gateway.reach(caller=caller, agent_id=bot.id, sender=web_sender(caller, None), fresh=True)
    request = ChatRequest(
        content=message.text, button=message.button, chat_id=message.chat_id, user_data=message.user_data
    )
    listener, accepted = await gateway.send(reach=reach, request=request, test=True)
    answer = TestAnswer(chat_id=accepted.chat_id, ran="draft", messages=[])
    try:
        async for event in gateway.follow(listener, accepted):
            if event is None:
                continue
            if event.get("type") == "message":
                shown = {"text": event.get("response", "")}
                shown.update({k: v for k, v in shown_with(event).items() if k in ("widget", "attachments")})
                answer.messages.append(shown)
            elif event.get("type") == "error":
                answer.error = {"code": event.get("code"), "message": event.get("response")}
    finally:
        await listener.close()
    return answer


async def reset_test(*, sessions: SessionFactory, gateway: Gateway, caller: Caller, bot_id: str) -> bool:
    """Forget the caller's test session with the bot (NotFound for a bot not the caller's):
    whether there was one."""
    async with sessions() as session:
        bot = await service.bot_of(session, caller, bot_id)
    reach = await gateway.reach(caller=caller, agent_id=bot.id, sender=web_sender(caller, None), fresh=True)
    payer = payer_of(reach)
    user_key = TEST_PREFIX + user_key_of({  # as the bot's host keys the session of a test message
        "user_id": payer.user_id, "channel": reach.sender.channel, "platform_user_id": reach.sender.platform_user_id,
    })
    async with session_scope(sessions) as session:
        result = await session.execute(
            delete(ScenarioSession).where(ScenarioSession.bot_id == bot.id, ScenarioSession.user_key == user_key)
            .execution_options(synchronize_session=False)
        )
    return bool(result.rowcount)  # type: ignore[attr-defined]
