"""An agent's Telegram bot in polling mode, end to end: python-telegram-bot in AgentHub
against the fake Bot API on 127.0.0.1, the demo (fake) model answering."""

from __future__ import annotations

from pathlib import Path

from tests.agents.helpers import assert_error
from tests.channels.telegram.helpers import OTHER_TOKEN, TOKEN, texts_to, world
from tests.support.fake_telegram import FakeBotApi


async def test_a_user_says_hi_and_the_agents_answer_arrives_in_the_chat(
    sqlite_url: str, tmp_path: Path, api: FakeBotApi
) -> None:
    api.add_bot(TOKEN)
    async with world(sqlite_url, tmp_path, api) as w:
        await w.agent("tg-bot", await w.credential())
        status = await w.start("tg-bot")
        assert status["mode"] == "polling" and status["bot_username"] == "agenthub_test_bot"
        await api.user_says(TOKEN, "hi")
        calls = await w.replies(lambda sent: len(texts_to(sent)) >= 1)
        assert texts_to(calls) == ['You said: "hi". That is message 1 of this chat.']
        assert "parse_mode" not in calls[0].params  # plain text: shown as written
        actions = api.sent(TOKEN, "sendChatAction")
        assert actions and actions[0].params["action"] == "typing" and str(actions[0].params["chat_id"]) == "42"
        assert api.calls.index(actions[0]) < api.calls.index(calls[0])  # typing… before the answer
        # The conversation is the agent's chat, from the Telegram user.
        messages = (await w.client.get("/api/v1/agents/tg-bot/chats/telegram-42/messages")).json()
        first = messages["items"][0]
        assert first["content"] == "hi" and first["channel"] == "telegram", first
        await api.user_says(TOKEN, "again")
        calls = await w.replies(lambda sent: len(texts_to(sent)) >= 2)
        assert texts_to(calls)[1] == 'You said: "again". That is message 2 of this chat.'


async def test_start_stop_status_and_the_seeds_paths(sqlite_url: str, tmp_path: Path, api: FakeBotApi) -> None:
    api.add_bot(TOKEN)
    async with world(sqlite_url, tmp_path, api) as w:
        await w.agent("tg-bot", await w.credential())
        assert (await w.status("tg-bot"))["status"] == "stopped"  # made after the server started: not yet
    async with world(sqlite_url, tmp_path, api) as w:
        # A server that starts runs the bots of the agents that have them.
        await w.until_status("tg-bot", "running")
        stopped = await w.client.post("/api/v1/agents/tg-bot/integrations/telegram/stop")
        assert stopped.status_code == 200 and stopped.json()["status"] == "stopped", stopped.text
        assert (await w.status("tg-bot"))["status"] == "stopped"
        started = await w.client.post("/api/v1/integrations/tg-bot/telegram/start")
        assert started.status_code == 200 and started.json()["status"] in ("starting", "running"), started.text
        await w.until_status("tg-bot", "running")
        seen = await w.client.get("/api/v1/integrations/tg-bot/telegram/status")
        assert seen.json()["status"] == "running" and seen.json()["agent_id"] == "tg-bot"
        assert_error(await w.client.post("/api/v1/integrations/tg-bot/slack/start"), 404, "not_found")
        assert (await w.client.post("/api/v1/integrations/tg-bot/telegram/stop")).json()["status"] == "stopped"
        await api.user_says(TOKEN, "anyone there?")
        await w.start("tg-bot")  # what came while it was stopped is answered once it runs again
        calls = await w.replies(lambda sent: len(texts_to(sent)) >= 1)
        assert texts_to(calls) == ['You said: "anyone there?". That is message 1 of this chat.']


async def test_a_bot_token_already_running_for_another_agent_is_refused(
    sqlite_url: str, tmp_path: Path, api: FakeBotApi
) -> None:
    api.add_bot(TOKEN)
    api.add_bot(OTHER_TOKEN, username="other_bot")
    async with world(sqlite_url, tmp_path, api) as w:
        await w.agent("first", await w.credential())
        await w.agent("second", await w.credential())  # another credential, the same token
        await w.start("first")
        error = assert_error(await w.client.post("/api/v1/agents/second/integrations/telegram/start"), 409)
        assert error["code"] == "token_in_use" and TOKEN not in str(error)
        await w.agent("third", await w.credential(OTHER_TOKEN))
        await w.start("third")  # another bot: no conflict
        await w.client.post("/api/v1/agents/first/integrations/telegram/stop")
        await w.start("second")  # free once the first stopped


async def test_a_token_telegram_refuses_is_an_error_without_the_token(
    sqlite_url: str, tmp_path: Path, api: FakeBotApi
) -> None:
    async with world(sqlite_url, tmp_path, api) as w:  # the fake knows no bot: every token is refused
        await w.agent("tg-bot", await w.credential())
        assert (await w.client.post("/api/v1/agents/tg-bot/integrations/telegram/start")).status_code == 200
        status = await w.until_status("tg-bot", "error")
        assert status["error"] and TOKEN not in status["error"] and "AAH" not in status["error"]


async def test_integration_settings_are_checked_and_an_agent_without_one_is_not_started(
    sqlite_url: str, tmp_path: Path, api: FakeBotApi
) -> None:
    async with world(sqlite_url, tmp_path, api) as w:
        credential = await w.credential()
        await w.agent("tg-bot", credential)
        for wrong in ({"mode": "carrier-pigeon", "credential_id": credential}, {"mode": "polling"},
                      {"credential_id": credential, "webhook_secret": "short"},
                      {"credential_id": credential, "surprise": True}):
            patched = await w.client.patch("/api/v1/agents/tg-bot", json={
                "settings": {"integrations": [{"type": "telegram", "settings": wrong}]},
            })
            assert_error(patched, 422, "invalid_input")
        bad = {"type": "telegram", "settings": {"credential_id": credential, "mode": "carrier-pigeon"}}
        error = assert_error(await w.client.post("/api/v1/agents", json={"id": "bad", "name": "Bad", "settings": {
            "provider": "fake", "model_id": "demo", "integrations": [bad]}}), 422, "invalid_input")
        assert "settings.mode" in error["message"] and error["details"][0]["field"] == "settings.integrations.0"
        read = (await w.client.get("/api/v1/agents/tg-bot")).json()
        assert read["settings"]["integrations"][0]["settings"]["credential_id"] == "***"
        # What a read shows, sent back, keeps the stored settings.
        same = await w.client.patch("/api/v1/agents/tg-bot", json={"settings": {
            "integrations": read["settings"]["integrations"]}})
        assert same.status_code == 200, same.text
        assert (await w.client.post("/api/v1/agents/tg-bot/integrations/telegram/start")).status_code == 200
        await w.client.post("/api/v1/agents/tg-bot/integrations/telegram/stop")
        plain = await w.client.post("/api/v1/agents", json={"id": "plain", "name": "Plain", "settings": {
            "provider": "fake", "model_id": "demo"}})
        assert plain.status_code == 201
        error = assert_error(await w.client.post("/api/v1/agents/plain/integrations/telegram/start"), 409)
        assert error["code"] == "not_configured"
        missing = await w.client.patch("/api/v1/agents/plain", json={"settings": {"integrations": [
            {"type": "telegram", "settings": {"credential_id": "cred_nobody"}}]}})
        error = assert_error(missing, 422, "invalid_input")  # a credential the organisation lacks: refused when saved
        assert error["details"][0]["field"] == "settings.integrations.0.settings.credential_id"
        error = assert_error(await w.client.post("/api/v1/agents/plain/integrations/telegram/start"), 409)
        assert error["code"] == "not_configured"


async def test_another_organisation_can_neither_start_stop_nor_see_the_bot(
    sqlite_url: str, tmp_path: Path, api: FakeBotApi
) -> None:
    api.add_bot(TOKEN)
    async with world(sqlite_url, tmp_path, api) as w:
        await w.agent("tg-bot", await w.credential())
        await w.start("tg-bot")
        registered = await w.client.post("/api/v1/auth/register", headers={"Authorization": ""}, json={
            "email": "other@example.com", "password": "other-password-1", "org_name": "Other"})
        assert registered.status_code == 201, registered.text
        other = {"Authorization": f"Bearer {registered.json()['access_token']}"}
        for method, path in (("POST", "start"), ("POST", "stop"), ("GET", "status"), ("POST", "link")):
            response = await w.client.request(method, f"/api/v1/agents/tg-bot/integrations/telegram/{path}",
                                              headers=other)
            assert_error(response, 404, "not_found")
            seed = await w.client.request(method, f"/api/v1/integrations/tg-bot/telegram/{path}", headers=other)
            assert seed.status_code in (404, 405)
        assert (await w.status("tg-bot"))["status"] == "running"
