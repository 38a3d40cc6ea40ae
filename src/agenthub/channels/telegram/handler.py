"""One Telegram update, handled: ``/start <code>`` links the Telegram user (see
:mod:`.links`); any other text, and a press of an inline button (its value), goes to the
agent through the :class:`~agenthub.channels.gateway.Gateway` as the Telegram user's
message (with their name, username and language as ``user_data``: :func:`user_data`), and the answer comes back to the chat (split, with buttons as an inline keyboard:
:mod:`.formatting`), with "typing…" shown while the agent works.

Who a message is from: a linked Telegram user is their platform user (a member of the
agent's organisation, billed as that user); anyone else is the end user
``telegram:<Telegram id>``, who reaches only a ``public`` agent, or an ``authorized`` one
that lists them as ``("telegram", <Telegram id>)``; the agent's access rules decide, and a
refusal is a friendly message in the chat.

Updates of one chat are handled in order, each after the one before; chats do not wait
for each other."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from typing import Any

from pydantic import ValidationError
from telegram import Bot, Chat, Update, User
from telegram.constants import ChatAction
from telegram.error import TelegramError

from agenthub.access.rules import Sender
from agenthub.caller import Caller
from agenthub.channels.gateway import Gateway
from agenthub.channels.telegram import links
from agenthub.channels.telegram.config import TYPE
from agenthub.channels.telegram.files import Sent, TelegramFiles, refusal, sent_file
from agenthub.channels.telegram.formatting import ButtonData, event_buttons, event_text, split_message
from agenthub.chats.schemas import ChatRequest
from agenthub.db.engine import SessionFactory, session_scope
from agenthub.errors import AgentHubError, BudgetExceeded, Forbidden, NotFound, Unauthorized
from agenthub.runtime.tasks import stop_tasks

log = logging.getLogger(__name__)

TYPING_EVERY = 4.5
"""Seconds between "typing…" actions while the agent works (Telegram shows one for 5 s)."""
NOT_PUBLIC = (
    "This bot answers the members of its organisation only. If you are one, open the link "
    "AgentHub gives you (POST /api/v1/agents/{agent}/integrations/telegram/link) to connect your account."
)
BAD_CODE = "This link is not valid any more (it is used once, within 15 minutes). Ask AgentHub for a new one."
GREETING = "Hello! Write me a message and I will answer."
TEXT_ONLY = "I can read text messages, photos and documents only."


PROFILE_FIELDS = ("first_name", "last_name", "username", "language_code")
"""What a message from Telegram says of its user in ``user_data`` (those the user has): a
scenario bot reads ``first_name``, ``last_name`` and ``username`` as ``user.*``."""

CHAT_PREFIX = "telegram-"
SHOWN_KEPT = 1000
"""Pushed messages remembered as shown (their durable copy comes a moment later)."""


def _telegram_chat(chat_key: str) -> int | None:
    """The Telegram chat of an AgentHub chat made by :func:`chat_key`; None for another."""
    if not chat_key.startswith(CHAT_PREFIX):
        return None
    head = chat_key.removeprefix(CHAT_PREFIX)
    if head.startswith("-"):  # a group's id is negative
        number, _, _ = head[1:].partition("-")
        number = "-" + number
    else:
        number, _, _ = head.partition("-")
    try:
        return int(number)
    except ValueError:
        return None


def chat_key(chat: Chat, user: User) -> str:
    """The AgentHub chat of a Telegram conversation: a private chat's own, or, in a group,
    one per member (visitors do not share chats)."""
    if chat.type == Chat.PRIVATE:
        return f"{CHAT_PREFIX}{chat.id}"
    return f"{CHAT_PREFIX}{chat.id}-{user.id}"


def user_data(user: User) -> dict[str, str]:
    """The ``user_data`` of a Telegram user's message: :data:`PROFILE_FIELDS` as Telegram
    gives them, those the user has (a NUL character, which nothing can store, left out)."""
    found = {key: str(getattr(user, key, None) or "").replace("\x00", "") for key in PROFILE_FIELDS}
    return {key: value for key, value in found.items() if value}


class UpdateHandler:
    def __init__(
        self, *, bot: Bot, agent_id: str, handle: str, gateway: Gateway, sessions: SessionFactory,
        buttons: ButtonData | None = None, typing_every: float = TYPING_EVERY, files: TelegramFiles | None = None,
    ) -> None:
        self._bot = bot
        self._agent_id = agent_id
        self._handle = handle
        self._gateway = gateway
        self._sessions = sessions
        self._buttons = buttons or ButtonData()
        self._typing_every = typing_every
        self._files = files
        self._latest: dict[str, asyncio.Task[None]] = {}
        self._tasks: set[asyncio.Task[None]] = set()

    def submit(self, update: Update) -> None:
        """Handle ``update`` in the background, after the updates of its chat before it."""
        chat = update.effective_chat
        key = str(chat.id) if chat is not None else "-"
        task = asyncio.create_task(self._after(self._latest.get(key), update), name=f"telegram-update-{key}")
        self._latest[key] = task
        self._tasks.add(task)

        def done(finished: asyncio.Task[None]) -> None:
            self._tasks.discard(finished)
            if self._latest.get(key) is finished:
                del self._latest[key]

        task.add_done_callback(done)

    async def close(self) -> None:
        """Stop handling: updates still being answered are cancelled."""
        await stop_tasks(list(self._tasks))

    async def relay_pushed(self) -> None:
        """Show in their Telegram chats, until cancelled, the answers to messages the server
        pushed into this bot's Telegram chats (a scenario bot's delayed and periodic
        messages: no update of Telegram's asked for them). Each once: the live copy and the
        durable one share a message id."""
        listener = await self._gateway.listen(self._agent_id)
        listener.watch_prefix(CHAT_PREFIX)
        shown: dict[str, None] = {}
        try:
            async for event in listener:
                message_id = str(event.get("message_id") or "")
                chat_id = _telegram_chat(str(event.get("chat_id") or ""))
                if event.get("type") != "message" or chat_id is None or message_id in shown:
                    continue
                if not (event_text(event) or event_buttons(event)):
                    continue  # a move that was dropped answers with nothing
                shown[message_id] = None
                if len(shown) > SHOWN_KEPT:
                    shown.pop(next(iter(shown)))
                try:
                    await self._show(chat_id, event)
                except TelegramError as error:
                    log.warning("pushed message not shown on Telegram: %s", type(error).__name__,
                                extra={"agent_id": self._agent_id})
        finally:
            await listener.close()

    async def _after(self, previous: asyncio.Task[None] | None, update: Update) -> None:
        if previous is not None:
            with contextlib.suppress(BaseException):
                await asyncio.shield(previous)
        await self.handle(update)

    async def handle(self, update: Update) -> None:
        """Answer one update; a failure is logged (and told to the user where it can be),
        never raised: one bad update does not stop the bot."""
        try:
            if update.callback_query is not None:
                await self._pressed(update)
            elif update.message is not None:
                await self._message(update)
        except asyncio.CancelledError:
            raise
        except Exception:
            log.exception("telegram update not handled", extra={"agent_id": self._agent_id})

    async def _message(self, update: Update) -> None:
        message = update.message
        assert message is not None
        user, chat = message.from_user, message.chat
        if user is None or user.is_bot:
            return
        text = message.text
        if text is None:
            sent = sent_file(message) if self._files is not None else None
            if sent is None:
                await self._say(chat.id, TEXT_ONLY)
                return
            # A file's caption is the message's text; without one, its name.
            await self._converse(chat, user, message.caption or sent.name, sent=sent)
            return
        command, _, argument = text.partition(" ")
        if command.split("@")[0] == "/start":
            await self._start(chat, user, argument.strip())
            return
        await self._converse(chat, user, text)

    async def _pressed(self, update: Update) -> None:
        query = update.callback_query
        assert query is not None
        with contextlib.suppress(TelegramError):
            await query.answer()
        value = self._buttons.value(query.data or "")
        chat = query.message.chat if query.message is not None else None
        if chat is None or not value:
            return
        await self._converse(chat, query.from_user, value, button=value)

    async def _start(self, chat: Chat, user: User, code: str) -> None:
        if not code:
            await self._say(chat.id, GREETING)
            return
        async with session_scope(self._sessions) as session:
            linked = await links.redeem(
                session, agent_id=self._agent_id, code=code, telegram_user_id=str(user.id),
                telegram_chat_id=str(chat.id),
            )
        if linked is None:
            await self._say(chat.id, BAD_CODE)
            return
        await self._say(chat.id, f"Linked: this Telegram account is now {linked.username} ({linked.email}) here.")

    async def _caller(self, user: User) -> Caller | None:
        async with self._sessions() as session:
            return await links.linked_caller(session, agent_id=self._agent_id, telegram_user_id=str(user.id))

    async def _converse(
        self, chat: Chat, user: User, text: str, *, button: str | None = None, sent: Sent | None = None
    ) -> None:
        caller = await self._caller(user)
        sender = Sender(TYPE, str(user.id), user_id=caller.user_id if caller else None)
        try:
            request = ChatRequest(
                content=text, chat_id=chat_key(chat, user), button=button, user_data=user_data(user)
            )
            reach = await self._gateway.reach(caller=caller, agent_id=self._agent_id, sender=sender, fresh=True)
        except ValidationError:
            await self._say(chat.id, "I can't read that message.")
            return
        except Unauthorized:
            await self._say(chat.id, NOT_PUBLIC.format(agent=self._handle))
            return
        except (Forbidden, NotFound) as refused:
            await self._say(chat.id, f"Sorry, you can't talk to this bot: {refused.message}")
            return
        if sent is not None:
            stored = await self._store(chat.id, sent, Caller(org_id=reach.org_id, user_id=sender.user_id or
                                                             f"{TYPE}:{user.id}"))
            if stored is None:
                return
            request = request.model_copy(update={"attachments": [stored]})
        listener = await self._gateway.listen(reach.agent_id)
        try:
            accepted = await self._gateway.accept(reach=reach, request=request, listener=listener)
            typing = asyncio.create_task(self._typing(chat.id), name="telegram-typing")
            try:
                async for event in self._gateway.follow(listener, accepted):
                    if event is not None:
                        await self._show(chat.id, event)
            finally:
                await stop_tasks([typing])
        except BudgetExceeded as spent:
            await self._say(chat.id, f"Sorry: {spent.message}")
        except AgentHubError as error:
            await self._say(chat.id, f"Sorry, the agent can't answer now: {error.message}")
        finally:
            await listener.close()

    async def _store(self, chat_id: int, sent: Sent, caller: Caller) -> str | None:
        """The id of the file ``sent`` stored for ``caller``'s organisation; None (the user
        told why) when it is not taken."""
        assert self._files is not None
        try:
            return await self._files.store(self._bot, sent, caller=caller)
        except AgentHubError as error:
            await self._say(chat_id, refusal(error))
        except TelegramError as error:
            log.warning("a file sent on Telegram was not downloaded: %s", type(error).__name__,
                        extra={"agent_id": self._agent_id})
            await self._say(chat_id, "Sorry, I could not download that file; send it again.")
        return None

    async def _typing(self, chat_id: int) -> None:
        while True:
            with contextlib.suppress(TelegramError):
                await self._bot.send_chat_action(chat_id, ChatAction.TYPING)
            await asyncio.sleep(self._typing_every)

    async def _show(self, chat_id: int, event: dict[str, Any]) -> None:
        kind = event.get("type")
        if kind in ("chunk", "status"):
            return
        if kind == "error":
            await self._say(chat_id, f"Sorry, something went wrong: {event.get('response') or 'error'}")
            return
        buttons = event_buttons(event)
        if kind != "message" and buttons is None:
            return  # an event of another kind (a tool call) shows nothing here
        text = event_text(event) or ("Choose:" if buttons else "")
        await self._say(chat_id, text, buttons=buttons)

    async def _say(self, chat_id: int, text: str, *, buttons: list[Any] | None = None) -> None:
        """``text`` as one message or several (the keyboard under the last)."""
        keyboard = self._buttons.keyboard(buttons) if buttons else None
        parts = split_message(text) or (["…"] if keyboard else [])
        for index, part in enumerate(parts):
            markup = keyboard if index == len(parts) - 1 else None
            await self._bot.send_message(chat_id, part, reply_markup=markup)
