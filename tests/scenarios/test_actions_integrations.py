"""``integration`` groups against real local servers: the fake Bot API, an SMTP server and a
local Discord-like webhook; each failure is an error result."""

from __future__ import annotations

from typing import Any

from aiohttp import web

from agenthub.outbound.guard import OutboundGuard
from agenthub.scenarios.actions.integrations import default_integrations
from agenthub.scenarios.actions.registry import run_action
from agenthub.scenarios.variables import Scopes
from tests.agents.helpers import client_for
from tests.notifications.mailserver import mail_server
from tests.scenarios.action_helpers import call, deps, local_server, settings
from tests.support.fake_telegram import FakeBotApi
from tests.support.server import free_port


def integration(name: str, **config: Any) -> dict[str, Any]:
    return {"search_type": "integration", "integration": {"name": name, "config": config}}


SCOPES = Scopes(user={"name": "Ann", "tg": "4242"}, session={"order": "pizza"}, message={"text": "hi"})


def test_each_integration_declares_its_config_schema() -> None:
    described = {item["name"]: item for item in default_integrations().describe()}
    assert set(described) == {"telegram.send_message", "email.send", "discord.execute_webhook", "random.number"}
    assert described["telegram.send_message"]["config_schema"]["required"] == ["credential_id", "chat_id", "text"]
    assert "to" in described["email.send"]["config_schema"]["properties"]


async def test_an_unknown_integration_or_a_bad_config_is_an_error() -> None:
    unknown = await run_action(call(integration("slack.post")), deps())
    assert unknown["error"].startswith("no integration 'slack.post'")
    bad = await run_action(call(integration("email.send", to=["not an address"])), deps())
    assert bad["error"].startswith("config.to.0:")


async def test_telegram_send_message_with_a_credential_s_token(sqlite_url: str) -> None:
    async with FakeBotApi() as api, client_for(sqlite_url) as (app, client):
        api.add_bot("123:secret-token")
        made = await client.post("/api/v1/credentials", json={"name": "tg", "type": "api_key", "value": "123:secret-token"})
        assert made.status_code == 201, made.text
        credential_id = made.json()["id"]
        state = app.app.state
        with_box = deps(settings=settings(telegram_api_base_url=api.root), sessions=state.session_factory,
                        box=state.secret_box)
        group = integration("telegram.send_message", credential_id=credential_id, chat_id="{$user.tg$}",
                            text="Your {$session.order$}, {$user.name$}")
        result = await run_action(call(group, scopes=SCOPES), with_box)
        assert result["chat_id"] == 4242 and isinstance(result["message_id"], int)
        sent = api.sent("123:secret-token")
        assert sent[-1].params["text"] == "Your pizza, Ann" and int(sent[-1].params["chat_id"]) == 4242

        other_org = await run_action(call(group, scopes=SCOPES, org_id="another"), with_box)
        assert "not found" in other_org["error"]
        await client.post("/api/v1/credentials", json={"name": "revoked", "type": "api_key", "value": "999:revoked"})
        revoked_id = (await client.get("/api/v1/credentials")).json()
        revoked = next(c["id"] for c in (revoked_id if isinstance(revoked_id, list) else revoked_id["items"])
                       if c["name"] == "revoked")
        refused = await run_action(call(integration("telegram.send_message", credential_id=revoked, chat_id=1, text="x"),
                                        scopes=SCOPES), with_box)
        assert refused["error"].startswith("the Bot API refused the bot's token")
        assert "999:revoked" not in str(refused)
        no_box = await run_action(call(group, scopes=SCOPES), deps(sessions=state.session_factory))
        assert no_box["error"].startswith("credentials can't be opened here")


async def test_email_send_through_the_smtp_settings() -> None:
    async with mail_server(user="bot", password="smtp-pass") as server:
        smtp = settings(smtp_host=server.host, smtp_port=server.port, smtp_user="bot", smtp_password="smtp-pass",
                        smtp_from="bot@example.com", smtp_tls=False)
        group = integration("email.send", to=["ann@example.com"], subject="Order {$session.order$}",
                            body="Hello {$user.name$}")
        result = await run_action(call(group, scopes=SCOPES), deps(settings=smtp))
        mail = await server.next_mail()
    assert result == {"sent": True, "to": ["ann@example.com"]}
    assert mail.subject == "Order pizza" and mail.body == "Hello Ann" and mail.recipients == ["ann@example.com"]
    unset = await run_action(call(group, scopes=SCOPES), deps())
    assert unset == {"error": "e-mail can't be sent: SMTP_HOST is not set"}
    down = await run_action(call(group, scopes=SCOPES),
                            deps(settings=settings(smtp_host="127.0.0.1", smtp_port=free_port(), smtp_tls=False)))
    assert down["error"].startswith("the SMTP server can't be reached")


async def test_email_refused_password_is_an_error_without_the_password() -> None:
    async with mail_server(user="bot", password="right") as server:
        wrong = settings(smtp_host=server.host, smtp_port=server.port, smtp_user="bot", smtp_password="wrong-pass",
                         smtp_tls=False)
        result = await run_action(call(integration("email.send", to=["a@example.com"], body="x")), deps(settings=wrong))
    assert result["error"].startswith("the SMTP server refused")
    assert "wrong-pass" not in result["error"]


async def test_discord_execute_webhook_through_the_guard() -> None:
    posted: list[Any] = []

    async def webhook(request: web.Request) -> web.Response:
        posted.append(await request.json())
        if request.query.get("wait") == "true":
            return web.json_response({"id": "m1", "channel_id": "c9", "content": "x"})
        return web.Response(status=204)

    async with local_server(lambda app: app.router.add_post("/api/webhooks/1/tok", webhook)) as base:
        group = integration("discord.execute_webhook", webhook_url=base + "/api/webhooks/1/tok?wait=true",
                            content="New order: {$session.order$}", username="Pizza bot")
        result = await run_action(call(group, scopes=SCOPES), deps())
        refused = await run_action(call(group, scopes=SCOPES), deps(guard=OutboundGuard()))
        no_wait = await run_action(call(integration("discord.execute_webhook", webhook_url=base + "/api/webhooks/1/tok",
                                                    content="x")), deps())
        missing = await run_action(call(integration("discord.execute_webhook", webhook_url=base + "/nope",
                                                    content="x")), deps())
    assert result == {"status": 200, "id": "m1", "channel_id": "c9"}
    assert posted[0] == {"content": "New order: pizza", "username": "Pizza bot"}
    assert refused == {"error": "refused: 127.0.0.1 is a loopback address"}
    assert no_wait == {"status": 204}
    assert missing["error"].startswith("Discord refused the message: HTTP 404")


async def test_discord_unreachable_is_an_error() -> None:
    result = await run_action(call(integration("discord.execute_webhook",
                                               webhook_url=f"http://127.0.0.1:{free_port()}/x", content="x")), deps())
    assert result["error"].startswith("the webhook can't be reached")


async def test_the_integrations_are_listed_with_their_config_schemas(sqlite_url: str) -> None:
    async with client_for(sqlite_url) as (app, client):
        response = await client.get("/api/v1/scenario_integrations")
        anonymous = await client.get("/api/v1/scenario_integrations", headers={"Authorization": ""})
    assert response.status_code == 200, response.text
    listed = {item["name"]: item for item in response.json()["integrations"]}
    assert list(listed) == ["discord.execute_webhook", "email.send", "random.number", "telegram.send_message"]
    assert listed["discord.execute_webhook"]["config_schema"]["properties"]["webhook_url"]["type"] == "string"
    assert anonymous.status_code == 401
