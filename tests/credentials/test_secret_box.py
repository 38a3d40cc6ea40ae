"""The key and the sealing: SECRET_BOX_KEY checked at start, the embedded key file made once
and kept, values that only their own key opens."""

from __future__ import annotations

import base64
import os
import stat
from pathlib import Path

import pytest
from pydantic import ValidationError

from agenthub.config import ConfigurationError, Settings
from agenthub.credentials.secret_box import (
    CredentialBox,
    SealedWithAnotherKey,
    generate_key,
    key_file,
    load_box,
)
from tests.cli.test_cli import agenthub, assert_readable_failure
from tests.support.server import free_port


def _settings(tmp_path: Path, **values: object) -> Settings:
    return Settings(_env_file=None, data_dir=tmp_path / "data", **values)


def test_a_value_opens_with_its_key_only() -> None:
    box = CredentialBox.from_text(generate_key())
    sealed = box.seal("bot-token-123456")
    assert "bot-token" not in sealed and sealed != box.seal("bot-token-123456"), "a fresh nonce every time"
    assert box.open(sealed) == "bot-token-123456"
    with pytest.raises(SealedWithAnotherKey):
        CredentialBox.from_text(generate_key()).open(sealed)
    with pytest.raises(SealedWithAnotherKey):
        box.open(sealed[:-4] + ("AAAA" if not sealed.endswith("AAAA") else "BBBB"))


@pytest.mark.parametrize(
    ("key", "said"),
    [
        (base64.b64encode(os.urandom(16)).decode(), "this one is 16 bytes"),
        (base64.urlsafe_b64encode(b"\xfb" * 32).decode(), "must be standard base64"),
        ("not base64 at all!", "must be standard base64"),
    ],
    ids=["16 random bytes", "url-safe alphabet", "not base64"],  # the same ids in every test process
)
def test_a_key_of_the_wrong_length_or_alphabet_is_refused_without_showing_it(
    tmp_path: Path, key: str, said: str
) -> None:
    with pytest.raises(ValidationError) as refused:
        _settings(tmp_path, secret_box_key=key)
    assert said in str(refused.value)
    assert key not in str(refused.value)


def test_the_embedded_mode_makes_a_key_file_once_readable_only_by_its_user(tmp_path: Path) -> None:
    settings = _settings(tmp_path)
    first = load_box(settings)
    path = key_file(settings)
    assert first is not None and path.exists()
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    sealed = first.seal("kept across starts")
    again = load_box(settings)
    assert again is not None and again.open(sealed) == "kept across starts"
    assert [p.name for p in path.parent.iterdir()] == ["secret_box.key"], "no temporary file left"


def test_secret_box_key_wins_and_production_without_it_has_no_box(tmp_path: Path) -> None:
    key = generate_key()
    box = load_box(_settings(tmp_path, secret_box_key=key))
    assert box is not None and CredentialBox.from_text(key).open(box.seal("v")) == "v"
    assert not (tmp_path / "data").exists(), "no key file when SECRET_BOX_KEY is set"
    assert load_box(_settings(tmp_path, redis_url="redis://127.0.0.1:6379/0")) is None
    assert not (tmp_path / "data").exists()


def test_a_key_file_without_a_key_is_refused_in_one_line(tmp_path: Path) -> None:
    settings = _settings(tmp_path)
    key_file(settings).parent.mkdir(parents=True)
    key_file(settings).write_text("truncated\n")
    with pytest.raises(ConfigurationError, match="holds no valid key") as refused:
        load_box(settings)
    assert "\n" not in str(refused.value)


async def test_serve_with_a_bad_key_refuses_to_start_in_one_line(tmp_path: Path) -> None:
    short = base64.b64encode(os.urandom(20)).decode()
    result = await agenthub("serve", "--port", str(free_port()), cwd=tmp_path, timeout=30, SECRET_BOX_KEY=short)
    assert_readable_failure(result, "Invalid configuration", "SECRET_BOX_KEY", "this one is 20 bytes")
    assert result.returncode == 2
    assert len(result.stderr.strip().splitlines()) == 1, result
    assert short not in result.stdout + result.stderr


async def test_serve_with_a_broken_key_file_refuses_to_start_in_one_line(tmp_path: Path) -> None:
    (tmp_path / "data").mkdir()
    (tmp_path / "data" / "secret_box.key").write_text("")
    result = await agenthub("serve", "--port", str(free_port()), cwd=tmp_path, timeout=30)
    assert_readable_failure(result, "secret_box.key holds no valid key", "SECRET_BOX_KEY")
    assert result.returncode == 2
    assert len(result.stderr.strip().splitlines()) == 1, result
