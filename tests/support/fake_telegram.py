"""A local fake of Telegram's Bot API on 127.0.0.1, for tests that run the real client library.

It speaks the Bot API's HTTP shape (``POST /bot{token}/{method}``, JSON or form bodies,
``{"ok": true, "result": ...}`` answers), keeps every call it received, and answers the
methods AgentHub uses: ``getMe``, ``getUpdates`` (long polling, woken by :meth:`push`),
``setWebhook``, ``deleteWebhook``, ``getWebhookInfo``, ``sendMessage``, ``editMessageText``,
``sendChatAction``, ``answerCallbackQuery``, ``getFile``, and the download of a file
(``GET /file/bot{token}/{file_path}``) a user sent (:meth:`user_sends_photo`,
:meth:`user_sends_document`). A token it was not told about gets 401, as Telegram answers
a revoked one.

Use it as ``async with FakeBotApi() as api:``; ``api.root`` is what ``TELEGRAM_API_BASE_URL``
takes (the client library reaches ``{root}/bot{token}/{method}``).
"""

from __future__ import annotations

import asyncio
import itertools
import json
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web


@dataclass
class Call:
    token: str
    method: str
    params: dict[str, Any]


@dataclass
class _Bot:
    token: str
    id: int
    username: str
    updates: list[dict[str, Any]] = field(default_factory=list)
    webhook: dict[str, Any] = field(default_factory=dict)


class FakeBotApi:
    def __init__(self) -> None:
        self.calls: list[Call] = []
        self._bots: dict[str, _Bot] = {}
        self._ids = itertools.count(1000)
        self._update_ids = itertools.count(1)
        self._message_ids = itertools.count(1)
        self._changed = asyncio.Condition()
        self._runner: web.AppRunner | None = None
        self.files: dict[str, bytes] = {}
        """The files users sent, by Telegram file id."""
        self.root = ""

    # -- set-up ----------------------------------------------------------------------------

    def add_bot(self, token: str, username: str = "agenthub_test_bot") -> int:
        """Make ``token`` a valid bot token; its bot's id."""
        bot = _Bot(token=token, id=next(self._ids), username=username)
        self._bots[token] = bot
        return bot.id

    async def __aenter__(self) -> FakeBotApi:
        app = web.Application()
        app.router.add_route("POST", "/bot{token}/{method}", self._handle)
        app.router.add_route("GET", "/bot{token}/{method}", self._handle)
        app.router.add_route("GET", "/file/bot{token}/{path:.+}", self._download)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        self.root = f"http://127.0.0.1:{port}"
        return self

    async def __aexit__(self, *exc: object) -> None:
        if self._runner is not None:
            await self._runner.cleanup()

    # -- what a Telegram user does -----------------------------------------------------------

    async def push(self, token: str, update: dict[str, Any]) -> dict[str, Any]:
        """Queue an update for the bot (``getUpdates`` returns it); the update with its id."""
        update = {"update_id": next(self._update_ids), **update}
        async with self._changed:
            self._bots[token].updates.append(update)
            self._changed.notify_all()
        return update

    async def user_says(self, token: str, text: str, *, user_id: int = 42, chat_id: int | None = None,
                        first_name: str = "Ann", username: str = "ann", **profile: str) -> dict[str, Any]:
        """A private message from a Telegram user to the bot (``profile``: more of the user's
        fields, ``last_name``, ``language_code``)."""
        chat = {"id": chat_id or user_id, "type": "private", "first_name": first_name, "username": username}
        sender = {"id": user_id, "is_bot": False, "first_name": first_name, "username": username, **profile}
        message = {"message_id": next(self._message_ids), "date": int(time.time()), "chat": chat,
                   "from": sender, "text": text}
        if text.startswith("/"):
            command = text.split()[0]
            message["entities"] = [{"type": "bot_command", "offset": 0, "length": len(command)}]
        return await self.push(token, {"message": message})

    async def user_sends_photo(self, token: str, data: bytes, *, caption: str | None = None,
                               user_id: int = 42) -> dict[str, Any]:
        """A photo (``data``: its bytes, served by ``getFile`` and the file route) from a Telegram user."""
        file_id = self._add_file(data)
        photo = [{"file_id": f"{file_id}-small", "file_unique_id": "s", "width": 90, "height": 90, "file_size": 10},
                 {"file_id": file_id, "file_unique_id": f"u{file_id}", "width": 800, "height": 600,
                  "file_size": len(data)}]
        return await self._user_sends(token, {"photo": photo}, caption=caption, user_id=user_id)

    async def user_sends_document(self, token: str, data: bytes, *, file_name: str, mime_type: str,
                                  caption: str | None = None, user_id: int = 42) -> dict[str, Any]:
        """A document from a Telegram user."""
        file_id = self._add_file(data)
        document = {"file_id": file_id, "file_unique_id": f"u{file_id}", "file_name": file_name,
                    "mime_type": mime_type, "file_size": len(data)}
        return await self._user_sends(token, {"document": document}, caption=caption, user_id=user_id)

    def _add_file(self, data: bytes) -> str:
        file_id = f"tgfile{next(self._ids)}"
        self.files[file_id] = data
        return file_id

    async def _user_sends(self, token: str, content: dict[str, Any], *, caption: str | None,
                          user_id: int) -> dict[str, Any]:
        chat = {"id": user_id, "type": "private", "first_name": "Ann", "username": "ann"}
        sender = {"id": user_id, "is_bot": False, "first_name": "Ann", "username": "ann"}
        message = {"message_id": next(self._message_ids), "date": int(time.time()), "chat": chat, "from": sender,
                   **content, **({"caption": caption} if caption is not None else {})}
        return await self.push(token, {"message": message})

    async def user_presses(self, token: str, data: str, *, message: dict[str, Any], user_id: int = 42,
                           first_name: str = "Ann", **profile: str) -> dict[str, Any]:
        """A press of an inline keyboard button under ``message`` (a message the bot sent)."""
        sender = {"id": user_id, "is_bot": False, "first_name": first_name, **profile}
        query = {"id": str(next(self._ids)), "from": sender, "chat_instance": "1", "data": data, "message": message}
        return await self.push(token, {"callback_query": query})

    # -- what a test waits for ---------------------------------------------------------------

    def sent(self, token: str | None = None, method: str = "sendMessage") -> list[Call]:
        return [call for call in self.calls if call.method == method and (token is None or call.token == token)]

    async def wait_for(self, predicate: Callable[[list[Call]], bool], timeout: float = 10.0) -> list[Call]:
        """Wait until ``predicate(calls)`` holds (woken by every call the fake receives)."""
        async with self._changed:
            await asyncio.wait_for(self._changed.wait_for(lambda: predicate(self.calls)), timeout)
        return self.calls

    # -- the Bot API ---------------------------------------------------------------------------

    async def _handle(self, request: web.Request) -> web.Response:
        token, method = request.match_info["token"], request.match_info["method"]
        params = await _params(request)
        async with self._changed:
            self.calls.append(Call(token, method, params))
            self._changed.notify_all()
        bot = self._bots.get(token)
        if bot is None:
            return web.json_response({"ok": False, "error_code": 401, "description": "Unauthorized"}, status=401)
        handler = getattr(self, f"_{method}", None)
        if handler is None:
            return web.json_response({"ok": False, "error_code": 404, "description": "Not Found"}, status=404)
        result = await handler(bot, params)
        return web.json_response({"ok": True, "result": result})

    async def _getMe(self, bot: _Bot, params: dict[str, Any]) -> Any:
        return {"id": bot.id, "is_bot": True, "first_name": "AgentHub", "username": bot.username,
                "can_join_groups": True, "can_read_all_group_messages": False, "supports_inline_queries": False}

    async def _getUpdates(self, bot: _Bot, params: dict[str, Any]) -> Any:
        offset = int(params.get("offset") or 0)
        timeout = float(params.get("timeout") or 0)

        def pending() -> list[dict[str, Any]]:
            return [update for update in bot.updates if update["update_id"] >= offset]

        async with self._changed:
            bot.updates = pending()  # confirmed ones are forgotten, as Telegram does
            if not bot.updates and timeout > 0:
                try:
                    await asyncio.wait_for(self._changed.wait_for(lambda: bool(pending())), timeout)
                except TimeoutError:
                    return []
            return pending()

    async def _setWebhook(self, bot: _Bot, params: dict[str, Any]) -> Any:
        bot.webhook = {"url": params.get("url", ""), "secret_token": params.get("secret_token")}
        return True

    async def _deleteWebhook(self, bot: _Bot, params: dict[str, Any]) -> Any:
        bot.webhook = {}
        return True

    async def _getWebhookInfo(self, bot: _Bot, params: dict[str, Any]) -> Any:
        return {"url": bot.webhook.get("url", ""), "has_custom_certificate": False, "pending_update_count": 0}

    async def _sendMessage(self, bot: _Bot, params: dict[str, Any]) -> Any:
        chat_id = params.get("chat_id")
        message = {"message_id": next(self._message_ids), "date": int(time.time()),
                   "chat": {"id": int(chat_id) if str(chat_id).lstrip("-").isdigit() else chat_id, "type": "private"},
                   "from": {"id": bot.id, "is_bot": True, "first_name": "AgentHub", "username": bot.username},
                   "text": params.get("text", "")}
        if params.get("reply_markup"):
            message["reply_markup"] = params["reply_markup"]
        return message

    async def _editMessageText(self, bot: _Bot, params: dict[str, Any]) -> Any:
        return await self._sendMessage(bot, params)

    async def _sendChatAction(self, bot: _Bot, params: dict[str, Any]) -> Any:
        return True

    async def _answerCallbackQuery(self, bot: _Bot, params: dict[str, Any]) -> Any:
        return True

    async def _getFile(self, bot: _Bot, params: dict[str, Any]) -> Any:
        file_id = str(params.get("file_id"))
        data = self.files.get(file_id)
        if data is None:
            return {"file_id": file_id, "file_unique_id": "gone"}
        return {"file_id": file_id, "file_unique_id": f"u{file_id}", "file_size": len(data),
                "file_path": f"documents/{file_id}"}

    async def _download(self, request: web.Request) -> web.Response:
        token, path = request.match_info["token"], request.match_info["path"]
        async with self._changed:
            self.calls.append(Call(token, "download", {"path": path}))
            self._changed.notify_all()
        data = self.files.get(path.rsplit("/", 1)[-1])
        if token not in self._bots or data is None:
            return web.Response(status=404)
        return web.Response(body=data, content_type="application/octet-stream")


async def _params(request: web.Request) -> dict[str, Any]:
    """The call's parameters from a JSON or a form body (form values that are JSON are decoded)."""
    if request.content_type == "application/json":
        body = await request.json()
        return body if isinstance(body, dict) else {}
    form = await request.post()
    params: dict[str, Any] = dict(request.query)
    for key, value in form.items():
        if isinstance(value, str):
            try:
                params[key] = json.loads(value)
            except ValueError:
                params[key] = value
    return params
