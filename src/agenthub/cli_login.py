"""The CLI's credentials: what ``agenthub login`` stores, and the ``Authorization`` every
call to a server sends.

``AGENTHUB_TOKEN`` (an access token or an API key) wins when it is set. Otherwise the login
stored for the server's address is used: its access token, renewed with its refresh token
(which rotates: the new pair is saved) when the server answers 401. The logins are kept in
``$AGENTHUB_CONFIG_DIR/credentials.json`` (default ``~/.config/agenthub/``), keyed by the
server's address, in a file only its user may read.
"""

from __future__ import annotations

import contextlib
import json
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import httpx

TOKEN_ENV = "AGENTHUB_TOKEN"
CONFIG_DIR_ENV = "AGENTHUB_CONFIG_DIR"
CREDENTIALS_FILE = "credentials.json"
NOT_LOGGED_IN = "Not logged in: run `agenthub login`"
TIMEOUT = 30.0


class NotLoggedIn(Exception):
    """The server wants credentials the CLI doesn't have (or has no more)."""


class LoginRefused(Exception):
    """``agenthub login`` failed: the server said why (wrong password, say)."""


def credentials_path(environ: Mapping[str, str] = os.environ) -> Path:
    if directory := environ.get(CONFIG_DIR_ENV):
        return Path(directory).expanduser() / CREDENTIALS_FILE
    config_home = environ.get("XDG_CONFIG_HOME") or str(Path.home() / ".config")
    return Path(config_home).expanduser() / "agenthub" / CREDENTIALS_FILE


class LoginStore:
    """The stored logins, one per server address: ``{"email", "access_token", "refresh_token"}``."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def _read(self) -> dict[str, dict[str, str]]:
        try:
            data = json.loads(self.path.read_text(encoding="utf-8"))
        except (OSError, ValueError):  # none yet, or unreadable: as if logged in nowhere
            return {}
        return data if isinstance(data, dict) else {}

    def get(self, api: str) -> dict[str, str] | None:
        entry = self._read().get(api)
        return entry if isinstance(entry, dict) else None

    def put(self, api: str, entry: dict[str, str]) -> None:
        data = self._read()
        data[api] = entry
        self._write(data)

    def remove(self, api: str) -> dict[str, str] | None:
        data = self._read()
        entry = data.pop(api, None)
        if entry is not None:
            self._write(data)
        return entry if isinstance(entry, dict) else None

    def _write(self, data: dict[str, dict[str, str]]) -> None:
        """Replace the file at once; it is never readable by anyone but its user, not even
        while it is written."""
        self.path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        temporary = self.path.with_name(f".{self.path.name}.{os.getpid()}")
        descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        try:
            os.fchmod(descriptor, 0o600)  # an old file of that name kept its mode
            with os.fdopen(descriptor, "w", encoding="utf-8") as file:
                json.dump(data, file, indent=2)
            os.replace(temporary, self.path)
        except BaseException:
            with contextlib.suppress(OSError):
                os.unlink(temporary)
            raise


def _tokens(response: httpx.Response) -> tuple[str, str]:
    body = response.json()
    return str(body["access_token"]), str(body["refresh_token"])


def _error_message(response: httpx.Response) -> str:
    try:
        return str(response.json()["error"]["message"])
    except (ValueError, KeyError, TypeError):
        return response.text.strip() or f"HTTP {response.status_code}"


class ServerAuth:
    """The credentials the CLI sends to one AgentHub (``api``: its address)."""

    def __init__(self, api: str, *, store: LoginStore, env_token: str | None) -> None:
        self.api = api
        self.store = store
        self.env_token = env_token or None

    @classmethod
    def for_api(cls, api: str, environ: Mapping[str, str] = os.environ) -> ServerAuth:
        return cls(api, store=LoginStore(credentials_path(environ)), env_token=environ.get(TOKEN_ENV))

    def token(self) -> str | None:
        if self.env_token:
            return self.env_token
        entry = self.store.get(self.api)
        return entry.get("access_token") if entry else None

    def headers(self) -> dict[str, str]:
        token = self.token()
        return {"Authorization": f"Bearer {token}"} if token else {}

    def refresh(self) -> bool:
        """Renew the stored login's access token; False when there is no way to (no login,
        ``AGENTHUB_TOKEN`` in use, or the refresh token is no longer valid)."""
        entry = None if self.env_token else self.store.get(self.api)
        if not entry or not entry.get("refresh_token"):
            return False
        response = httpx.post(
            f"{self.api}/api/v1/auth/refresh", json={"refresh_token": entry["refresh_token"]}, timeout=TIMEOUT
        )
        if response.status_code != 200:
            return False
        entry["access_token"], entry["refresh_token"] = _tokens(response)
        self.store.put(self.api, entry)
        return True

    def refused(self, response: httpx.Response) -> NotLoggedIn:
        """What to tell the user when the server answered 401 and there was no way round it."""
        if self.env_token:
            return NotLoggedIn(
                f"Not logged in: the server refused {TOKEN_ENV} ({_error_message(response)}); "
                f"set a valid one, or unset it and run `agenthub login`"
            )
        return NotLoggedIn(NOT_LOGGED_IN)

    def request(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        """``method path`` with the credentials; a 401 renews the access token once and
        tries again. Raises :class:`NotLoggedIn` when the server still answers 401."""
        response = httpx.request(method, f"{self.api}{path}", headers=self.headers(), timeout=TIMEOUT, **kwargs)
        if response.status_code == 401 and self.refresh():
            response = httpx.request(method, f"{self.api}{path}", headers=self.headers(), timeout=TIMEOUT, **kwargs)
        if response.status_code == 401:
            raise self.refused(response)
        return response

    def fresh_headers(self) -> dict[str, str]:
        """The headers, the stored access token renewed first when it has expired (for the
        WebSocket, whose refusal comes only after a message was typed). Anything but a
        401 leaves them as they are: the chat itself says what went wrong."""
        if self.env_token or not self.store.get(self.api):
            return self.headers()
        with contextlib.suppress(httpx.HTTPError):
            response = httpx.get(f"{self.api}/api/v1/auth/me", headers=self.headers(), timeout=TIMEOUT)
            if response.status_code == 401:
                self.refresh()
        return self.headers()

    def log_in(self, *, email: str, password: str) -> None:
        """Log in and store the tokens; :class:`LoginRefused` says why not."""
        response = httpx.post(
            f"{self.api}/api/v1/auth/login", json={"email": email, "password": password}, timeout=TIMEOUT
        )
        if response.status_code != 200:
            raise LoginRefused(f"{response.status_code}: {_error_message(response)}")
        access_token, refresh_token = _tokens(response)
        self.store.put(self.api, {"email": email, "access_token": access_token, "refresh_token": refresh_token})

    def log_out(self) -> str | None:
        """Forget the stored login and end it on the server (when it can be reached: the
        login is forgotten here either way). The e-mail that was logged in, or None."""
        entry = self.store.remove(self.api)
        if entry is None:
            return None
        if entry.get("refresh_token"):
            with contextlib.suppress(httpx.HTTPError):
                httpx.post(
                    f"{self.api}/api/v1/auth/logout", json={"refresh_token": entry["refresh_token"]},
                    timeout=TIMEOUT,
                )
        return entry.get("email", "")
