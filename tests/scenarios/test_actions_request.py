"""``response`` groups: the request goes out with its variables, through the guard, and
every failure is an error result."""

from __future__ import annotations

import asyncio
from typing import Any, cast

from aiohttp import web

from agenthub.db.engine import SessionFactory
from agenthub.outbound.guard import OutboundGuard
from agenthub.scenarios.actions.process import ProcessActions
from agenthub.scenarios.actions.registry import run_action
from agenthub.scenarios.variables import Scopes
from tests.scenarios.action_helpers import LOCAL, call, deps, local_server, settings
from tests.support.server import free_port

GROUP = {"search_type": "response", "request": "api"}


def scopes() -> Scopes:
    return Scopes(bot={"shop": "Luigi"}, user={"name": "Ann"}, session={"qty": 3, "file": "f1"},
                  message={"text": "pizza"})


async def test_a_get_with_variables_in_url_params_and_headers() -> None:
    seen: list[web.Request] = []

    async def menu(request: web.Request) -> web.Response:
        seen.append(request)
        return web.json_response({"main": {"temp": 21.5}, "shop": request.query["shop"]}, headers={"X-Served": "yes"})

    async with local_server(lambda app: app.router.add_get("/menu/{dish}", menu)) as base:
        request = {"key": "api", "url": base + "/menu/{$message.text$}?shop={$bot.shop$}",
                   "params": {"who": "{$user.name$}", "n": "{$session.qty$}"}, "headers": {"X-User": "{$user.name$}"}}
        result = await run_action(call(GROUP, requests=[request], scopes=scopes()), deps())
    assert result["status"] == 200
    assert result["json"] == {"main": {"temp": 21.5}, "shop": "Luigi"}
    assert result["headers"]["x-served"] == "yes"
    assert '"temp": 21.5' in result["text"]
    assert seen[0].match_info["dish"] == "pizza"
    assert seen[0].query["who"] == "Ann" and seen[0].query["n"] == "3"
    assert seen[0].headers["X-User"] == "Ann"


async def test_json_form_and_multipart_bodies() -> None:
    bodies: list[Any] = []

    async def echo(request: web.Request) -> web.Response:
        if request.content_type == "application/json":
            bodies.append(await request.json())
        elif request.content_type == "multipart/form-data":
            parts = {}
            async for part in await request.multipart():
                parts[part.name] = (part.filename, part.headers.get("Content-Type"), await part.read())
            bodies.append(parts)
        else:
            bodies.append(dict(await request.post()))
        return web.Response(text="plain ok")

    files = {"f1": ("menu.pdf", "application/pdf", b"%PDF-1.4 pizza")}

    async def read_file(org_id: str, file_id: str) -> tuple[str, str, bytes]:
        assert org_id == "default"
        return files[file_id]

    async with local_server(lambda app: app.router.add_post("/o", echo)) as base:
        made = [
            {"key": "api", "method": "POST", "url": base + "/o", "body": {"qty": "{$session.qty$}", "who": "{$user.name$}"}},
            {"key": "api", "method": "POST", "url": base + "/o", "body_type": "form", "body": {"qty": "{$session.qty$}"}},
            {"key": "api", "method": "POST", "url": base + "/o", "body_type": "multipart", "body": {"note": "hi {$user.name$}"},
             "files": [{"field": "doc", "file_id": "{$session.file$}"}]},
        ]
        results = [await run_action(call(GROUP, requests=[r], scopes=scopes()), deps(read_file=read_file)) for r in made]
    assert [r["status"] for r in results] == [200, 200, 200]
    assert results[0]["json"] is None and results[0]["text"] == "plain ok"
    assert bodies[0] == {"qty": 3, "who": "Ann"}  # a whole placeholder keeps the variable's type
    assert bodies[1] == {"qty": "3"}
    assert bodies[2]["note"][2] == b"hi Ann"
    assert bodies[2]["doc"] == ("menu.pdf", "application/pdf", b"%PDF-1.4 pizza")


async def test_files_without_a_file_store_or_an_unknown_file_are_errors() -> None:
    async def read_file(org_id: str, file_id: str) -> tuple[str, str, bytes]:
        raise LookupError(f"no file {file_id}")

    request = {"key": "api", "method": "POST", "url": "http://127.0.0.1:9/x", "body_type": "multipart",
               "files": [{"field": "doc", "file_id": "nope"}]}
    result = await run_action(call(GROUP, requests=[request]), deps())
    assert result == {"error": "files can't be sent from here: no file store"}
    result = await run_action(call(GROUP, requests=[request]), deps(read_file=read_file))
    assert result["error"].startswith("file 'nope' can't be read")


async def test_loopback_is_refused_unless_the_allow_list_names_it() -> None:
    async def ok(request: web.Request) -> web.Response:
        return web.json_response({"ok": True})

    async with local_server(lambda app: app.router.add_get("/", ok)) as base:
        request = [{"key": "api", "url": base + "/"}]
        refused = await run_action(call(GROUP, requests=request), deps(guard=OutboundGuard()))
        allowed = await run_action(call(GROUP, requests=request), deps())
    assert refused == {"error": "refused: 127.0.0.1 is a loopback address"}
    assert allowed["json"] == {"ok": True}
    metadata = await run_action(call(GROUP, requests=[{"key": "api", "url": "http://169.254.169.254/latest"}]),
                                deps(guard=OutboundGuard()))
    assert metadata["error"].startswith("refused: 169.254.169.254")


async def test_a_redirect_to_a_refused_address_is_refused() -> None:
    async def hop(request: web.Request) -> web.Response:
        raise web.HTTPFound("http://10.0.0.1/inside")

    async with local_server(lambda app: app.router.add_get("/", hop)) as base:
        result = await run_action(call(GROUP, requests=[{"key": "api", "url": base + "/"}]), deps())
    assert result == {"error": "refused: 10.0.0.1 is a private address"}


async def test_a_timeout_a_closed_port_and_a_bad_url_are_errors() -> None:
    release = asyncio.Event()

    async def slow(request: web.Request) -> web.Response:
        await release.wait()
        return web.Response(text="late")

    async with local_server(lambda app: app.router.add_get("/", slow)) as base:
        try:
            result = await run_action(call(GROUP, requests=[{"key": "api", "url": base + "/", "timeout": 0.3}]), deps())
        finally:
            release.set()
    assert result == {"error": "timeout: no answer within 0.3 s"}
    closed = await run_action(call(GROUP, requests=[{"key": "api", "url": f"http://127.0.0.1:{free_port()}/"}]), deps())
    assert closed["error"].startswith("connection failed")
    bad = await run_action(call(GROUP, requests=[{"key": "api", "url": "ftp://{$session.none$}example.com/"}]), deps())
    assert bad["error"].startswith("refused: only http")


async def test_a_big_body_is_capped_and_not_parsed() -> None:
    big = b'{"a": "' + b"x" * (1024 * 1024 + 10) + b'"}'

    async def huge(request: web.Request) -> web.Response:
        return web.Response(body=big, content_type="application/json")

    async with local_server(lambda app: app.router.add_get("/", huge)) as base:
        result = await run_action(call(GROUP, requests=[{"key": "api", "url": base + "/"}]), deps())
    assert result["status"] == 200 and result["json"] is None
    assert len(result["text"]) == 1024 * 1024


async def test_the_process_client_sends_no_cookie_one_api_set_to_another_request() -> None:
    cookies: list[str | None] = []

    async def setter(request: web.Request) -> web.Response:
        cookies.append(request.headers.get("Cookie"))
        response = web.json_response({"ok": True})
        response.set_cookie("session", "org-a-secret")
        return response

    async def hop(request: web.Request) -> web.Response:
        raise web.HTTPFound("/set")

    def routes(app: web.Application) -> None:
        app.router.add_get("/set", setter)
        app.router.add_get("/hop", hop)

    actions = ProcessActions(settings(), cast(SessionFactory, None), guard=LOCAL, sandbox=object())
    try:
        async with local_server(routes) as base:
            first = await run_action(call(GROUP, requests=[{"key": "api", "url": base + "/set"}]), actions.deps)
            second = await run_action(call(GROUP, requests=[{"key": "api", "url": base + "/hop"}], org_id="other"),
                                      actions.deps)
    finally:
        await actions.close()
    assert first["json"] == second["json"] == {"ok": True}
    assert cookies == [None, None]
