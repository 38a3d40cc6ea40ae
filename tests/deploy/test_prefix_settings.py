"""``ROOT_PATH``: what is accepted and how it is written, what is refused (in one line by
``agenthub serve``), and the addresses AgentHub builds with it."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import ValidationError

from agenthub.channels.paths import route_path
from agenthub.channels.telegram.config import webhook_url
from agenthub.config import Settings
from tests.e2e.processes import clean_env, run_cli

WEBHOOK = "/api/v1/agents/a1/integrations/telegram/webhook"


@pytest.mark.parametrize(
    ("given", "kept"),
    [("", ""), ("/", ""), ("/web", "/web"), ("/web/", "/web"), (" /a/b-c.d_e~f ", "/a/b-c.d_e~f")],
)
def test_a_prefix_is_kept_without_its_trailing_slash(given: str, kept: str) -> None:
    assert Settings(_env_file=None, root_path=given).root_path == kept


@pytest.mark.parametrize("given", ["web", "/web?x=1", "/w eb", "/web//x", "/../web", "/web/.", "http://x/web", "/wéb"])
def test_a_prefix_that_is_no_plain_path_is_refused(given: str) -> None:
    with pytest.raises(ValidationError) as refused:
        Settings(_env_file=None, root_path=given)
    assert "root_path" in str(refused.value) and "must be a path that starts with /" in str(refused.value)


def test_serve_refuses_a_bad_prefix_in_one_line(tmp_path: Path) -> None:
    result = run_cli("serve", env=clean_env(ROOT_PATH="web", DATA_DIR=str(tmp_path)), cwd=tmp_path)
    assert result.returncode == 2
    assert "ROOT_PATH" in result.stderr and "starts with /" in result.stderr
    assert "Traceback" not in result.stderr + result.stdout


@pytest.mark.parametrize(
    ("public_url", "root_path", "expected"),
    [
        ("https://bots.example.com", "", "https://bots.example.com" + WEBHOOK),
        ("https://bots.example.com", "/web", "https://bots.example.com/web" + WEBHOOK),
        ("https://bots.example.com/", "/web", "https://bots.example.com/web" + WEBHOOK),
        ("https://bots.example.com/web", "/web", "https://bots.example.com/web" + WEBHOOK),
        ("https://bots.example.com/web/", "/web", "https://bots.example.com/web" + WEBHOOK),
        ("https://bots.example.com/myweb", "/web", "https://bots.example.com/myweb/web" + WEBHOOK),
    ],
)
def test_telegram_webhooks_are_registered_under_the_prefix(public_url: str, root_path: str, expected: str) -> None:
    settings = Settings(_env_file=None, public_url=public_url, root_path=root_path)
    assert webhook_url(settings, "a1") == expected


@pytest.mark.parametrize(
    ("path", "root", "inside"),
    [
        ("/web/health", "/web", "/health"),
        ("/web", "/web", "/"),
        ("/health", "", "/health"),
        ("/webhook", "/web", "/webhook"),  # not under the prefix: as it is
        ("/health", "/web", "/health"),
    ],
)
def test_the_path_inside_agenthub(path: str, root: str, inside: str) -> None:
    assert route_path({"type": "http", "path": path, "root_path": root}) == inside
