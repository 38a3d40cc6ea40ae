"""``agenthub login`` / ``logout`` and the credentials every other command sends: the stored
login (renewed with its refresh token when the server refuses its access token), or
``AGENTHUB_TOKEN``; without either, one line saying to log in."""

from __future__ import annotations

import asyncio
import json
import os
import pty
import stat
import subprocess
import termios
from pathlib import Path

import httpx

from tests.channels.helpers import eventually
from tests.cli.test_cli import agenthub, assert_readable_failure, config_dir, logged_in
from tests.e2e.processes import AGENTHUB, clean_env
from tests.support.server import OWNER_EMAIL, OWNER_PASSWORD, make_settings, running_app

NOT_LOGGED_IN = "Not logged in: run `agenthub login`"


def stored(cwd: Path) -> dict[str, dict[str, str]]:
    return json.loads((config_dir(cwd) / "credentials.json").read_text())


async def refused(url: str, refresh_token: str) -> bool:
    async with httpx.AsyncClient(base_url=url, timeout=30) as client:
        response = await client.post("/api/v1/auth/refresh", json={"refresh_token": refresh_token})
        return response.status_code == 401


async def test_login_stores_a_token_only_its_user_may_read_and_logout_ends_it(
    sqlite_url: str, tmp_path: Path
) -> None:
    async with running_app(make_settings(database_url=sqlite_url)) as app:
        api = ("--api-url", app.url)
        before = await agenthub("agents", "list", *api, cwd=tmp_path)
        assert before.returncode == 1, before
        assert before.stderr.strip().splitlines() == [NOT_LOGGED_IN], before

        await logged_in(app.url, tmp_path)
        path = config_dir(tmp_path) / "credentials.json"
        assert stat.S_IMODE(path.stat().st_mode) == 0o600
        assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700
        login = stored(tmp_path)[app.url]
        assert login["email"] == OWNER_EMAIL and login["access_token"] and login["refresh_token"]
        assert OWNER_PASSWORD not in path.read_text(), "the password is never kept"

        created = await agenthub(
            "agents", "create", "--id", "mine", "--name", "Mine", "--provider", "fake", "--model-id", "demo",
            *api, cwd=tmp_path,
        )
        assert created.returncode == 0, created
        listed = await agenthub("agents", "list", *api, cwd=tmp_path)
        assert listed.returncode == 0 and "mine\tMine" in listed.stdout, listed

        out = await agenthub("logout", *api, cwd=tmp_path)
        assert out.returncode == 0 and f"Logged out of {app.url} ({OWNER_EMAIL})." in out.text, out
        assert app.url not in stored(tmp_path)
        assert await refused(app.url, login["refresh_token"]), "the login ended on the server too"
        after = await agenthub("agents", "list", *api, cwd=tmp_path)
        assert after.returncode == 1 and after.stderr.strip().splitlines() == [NOT_LOGGED_IN], after
        again = await agenthub("logout", *api, cwd=tmp_path)
        assert again.returncode == 0 and f"Not logged in to {app.url}." in again.text, again


async def test_a_refused_access_token_is_renewed_with_the_refresh_token(sqlite_url: str, tmp_path: Path) -> None:
    async with running_app(make_settings(database_url=sqlite_url, demo_agent=True)) as app:
        api = ("--api-url", app.url)
        await logged_in(app.url, tmp_path)
        path = config_dir(tmp_path) / "credentials.json"
        logins = stored(tmp_path)
        first = dict(logins[app.url])
        logins[app.url]["access_token"] = "expired-or-revoked"
        path.write_text(json.dumps(logins))

        listed = await agenthub("agents", "list", *api, cwd=tmp_path)
        assert listed.returncode == 0 and listed.stdout.splitlines()[1].startswith("demo\t"), listed
        renewed = stored(tmp_path)[app.url]
        assert renewed["access_token"] not in (first["access_token"], "expired-or-revoked")
        assert renewed["refresh_token"] != first["refresh_token"], "the new pair was saved"
        assert await refused(app.url, first["refresh_token"]), "the refresh token rotated"
        assert stat.S_IMODE(path.stat().st_mode) == 0o600

        # The chat renews it before it connects, too.
        logins = stored(tmp_path)
        logins[app.url]["access_token"] = "expired-or-revoked"
        path.write_text(json.dumps(logins))
        chatted = await agenthub("chat", "demo", *api, cwd=tmp_path, stdin="hello\n")
        assert chatted.returncode == 0, chatted
        assert 'You said: "hello"' in chatted.text

        # A refresh token that no longer works: log in again.
        logins = stored(tmp_path)
        logins[app.url] = {"email": OWNER_EMAIL, "access_token": "stale", "refresh_token": "revoked"}
        path.write_text(json.dumps(logins))
        stale = await agenthub("agents", "list", *api, cwd=tmp_path)
        assert stale.returncode == 1 and stale.stderr.strip().splitlines() == [NOT_LOGGED_IN], stale
        chat = await agenthub("chat", "demo", *api, cwd=tmp_path, stdin="hello\n")
        assert chat.returncode == 1 and chat.stderr.strip().splitlines() == [NOT_LOGGED_IN], chat


async def test_agenthub_token_is_sent_instead_of_a_login(sqlite_url: str, tmp_path: Path) -> None:
    async with running_app(make_settings(database_url=sqlite_url, demo_agent=True)) as app:
        api = ("--api-url", app.url)
        listed, chatted, queues, bad = await asyncio.gather(
            agenthub("agents", "list", *api, cwd=tmp_path, AGENTHUB_TOKEN=app.token),
            agenthub("chat", "demo", *api, cwd=tmp_path, stdin="hello\n", AGENTHUB_TOKEN=app.token),
            agenthub("queues", "dead-letters", *api, cwd=tmp_path, AGENTHUB_TOKEN=app.token),
            agenthub("agents", "list", *api, cwd=tmp_path, AGENTHUB_TOKEN="not-a-token"),
        )
    assert listed.returncode == 0 and "demo\t" in listed.stdout, listed
    assert chatted.returncode == 0 and 'You said: "hello"' in chatted.text, chatted
    assert queues.returncode == 0 and "history_queue: 0 dead letters" in queues.stdout, queues
    assert_readable_failure(bad, "Not logged in", "AGENTHUB_TOKEN")
    assert len(bad.stderr.strip().splitlines()) == 1, bad
    assert not (config_dir(tmp_path) / "credentials.json").exists()


async def test_without_credentials_the_chat_says_to_log_in(sqlite_url: str, tmp_path: Path) -> None:
    async with running_app(make_settings(database_url=sqlite_url)) as app:
        async with httpx.AsyncClient(base_url=app.url, headers=app.headers, timeout=60) as client:
            body = {"id": "private", "name": "Private", "settings": {"provider": "fake", "model_id": "demo"}}
            assert (await client.post("/api/v1/agents", json=body)).status_code == 201
        result = await agenthub("chat", "private", "--api-url", app.url, cwd=tmp_path, stdin="hello\n")
    assert result.returncode == 1, result
    assert result.stderr.strip().splitlines() == [NOT_LOGGED_IN], result
    assert "Traceback" not in result.text


async def test_a_wrong_password_is_refused_and_nothing_is_stored(sqlite_url: str, tmp_path: Path) -> None:
    async with running_app(make_settings(database_url=sqlite_url)) as app:
        result = await agenthub(
            "login", "--email", OWNER_EMAIL, "--password", "not-the-password", "--api-url", app.url, cwd=tmp_path
        )
    assert_readable_failure(result, "Login refused", "401", "wrong e-mail or password")
    assert result.returncode == 1
    assert not (config_dir(tmp_path) / "credentials.json").exists()


async def test_login_asks_for_what_is_not_given_and_hides_the_password(sqlite_url: str, tmp_path: Path) -> None:
    async with running_app(make_settings(database_url=sqlite_url)) as app:
        main, terminal = pty.openpty()  # a person at a terminal
        process = subprocess.Popen(
            [AGENTHUB, "login", "--api-url", app.url],
            env=clean_env(AGENTHUB_CONFIG_DIR=str(config_dir(tmp_path))), cwd=tmp_path,
            stdin=terminal, stdout=terminal, stderr=terminal, start_new_session=True,
        )
        os.close(terminal)
        seen = bytearray()
        try:
            after = await _read_until(main, seen, b"E-mail", after=0)
            os.write(main, f"{OWNER_EMAIL}\n".encode())
            after = await _read_until(main, seen, b"Password", after=after)
            await eventually(lambda: _echo_off(main), what="the terminal's echo off for the password")
            os.write(main, f"{OWNER_PASSWORD}\n".encode())
            await _read_until(main, seen, b"Logged in", after=after)
            code = await asyncio.to_thread(process.wait, 30)
        finally:
            if process.poll() is None:
                process.kill()
                process.wait(10)
            os.close(main)
    text = seen.decode(errors="replace")
    assert code == 0, text
    assert OWNER_EMAIL in text, "the e-mail is echoed as typed"
    assert OWNER_PASSWORD not in text, "the password is not"
    assert stored(tmp_path)[app.url]["email"] == OWNER_EMAIL


async def _echo_off(fd: int) -> bool:
    """The terminal no longer shows what is typed (the pty's two ends share its settings)."""
    return not termios.tcgetattr(fd)[3] & termios.ECHO


async def _read_until(fd: int, seen: bytearray, marker: bytes, *, after: int) -> int:
    """Read the terminal until ``marker`` shows after position ``after``; where it ends."""
    while marker not in seen[after:]:
        chunk = await asyncio.wait_for(asyncio.to_thread(os.read, fd, 4096), 30)  # a hang fails
        assert chunk, seen.decode(errors="replace")
        seen += chunk
    return seen.index(marker, after) + len(marker)

