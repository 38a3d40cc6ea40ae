"""``agenthub credentials rotate-key``: every credential sealed again under the new key in one
transaction; the old key opens none of them afterwards. SQLite and PostgreSQL."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import select

from agenthub.caller import DEFAULT_ORG, Caller
from agenthub.config import ConfigurationError, Settings
from agenthub.credentials import service
from agenthub.credentials.models import Credential
from agenthub.credentials.rotation import rotate_key
from agenthub.credentials.schemas import CredentialCreate
from agenthub.credentials.secret_box import (
    CredentialBox,
    SealedWithAnotherKey,
    generate_key,
    key_file,
    load_box,
)
from agenthub.db.engine import create_engine, create_session_factory, session_scope
from agenthub.db.file_lock import DatabaseFileLock, DatabaseInUse
from tests.agents.helpers import migrated
from tests.cli.test_cli import agenthub, assert_readable_failure

VALUES = {"bot": "123456:bot-token-value-abc", "key": "sk-org-key-0123456789"}


def _settings(database_url: str, tmp_path: Path, **values: object) -> Settings:
    return Settings(_env_file=None, database_url=database_url, data_dir=tmp_path / "data", **values)


async def _store(database_url: str, box: CredentialBox, values: dict[str, str] = VALUES) -> list[str]:
    """Credentials with these values, sealed with ``box``; their ids."""
    await migrated(database_url)
    engine = create_engine(database_url, pool_size=1)
    try:
        async with session_scope(create_session_factory(engine)) as session:
            caller = Caller(org_id=DEFAULT_ORG, user_id="usr_test", role="owner")
            created = [
                await service.create(
                    session, caller=caller, box=box,
                    data=CredentialCreate.model_validate({"name": name, "type": "api_key", "value": value}),
                )
                for name, value in values.items()
            ]
            return [credential.id for credential in created]
    finally:
        await engine.dispose()


async def _opened(database_url: str, box: CredentialBox) -> dict[str, str]:
    """Every stored credential opened with ``box``, by name."""
    engine = create_engine(database_url, pool_size=1)
    try:
        async with session_scope(create_session_factory(engine)) as session:
            credentials = list(await session.scalars(select(Credential)))
            return {c.name: await service.reveal(session, c.org_id, c.id, box) for c in credentials}
    finally:
        await engine.dispose()


async def _opens_none(database_url: str, box: CredentialBox) -> None:
    engine = create_engine(database_url, pool_size=1)
    try:
        async with session_scope(create_session_factory(engine)) as session:
            for credential in await session.scalars(select(Credential)):
                with pytest.raises(SealedWithAnotherKey):
                    box.open(credential.sealed_value)
    finally:
        await engine.dispose()


async def test_with_secret_box_key_the_new_key_opens_every_value_and_the_old_none(
    database_url: str, tmp_path: Path
) -> None:
    old_key, new_key = generate_key(), generate_key()
    settings = _settings(database_url, tmp_path, secret_box_key=old_key)
    await _store(database_url, CredentialBox.from_text(old_key))

    done = await rotate_key(settings, new_key=new_key)

    assert done.resealed == 2 and done.key_file is None and done.new_key is None
    assert await _opened(database_url, CredentialBox.from_text(new_key)) == {"bot": VALUES["bot"], "key": VALUES["key"]}
    await _opens_none(database_url, CredentialBox.from_text(old_key))
    assert not (tmp_path / "data").exists()


async def test_a_generated_key_is_handed_back_once(sqlite_url: str, tmp_path: Path) -> None:
    old_key = generate_key()
    await _store(sqlite_url, CredentialBox.from_text(old_key))
    done = await rotate_key(_settings(sqlite_url, tmp_path, secret_box_key=old_key))
    assert done.new_key is not None and done.new_key != old_key
    assert await _opened(sqlite_url, CredentialBox.from_text(done.new_key)) == VALUES


async def test_the_embedded_key_file_gets_the_new_key(database_url: str, tmp_path: Path) -> None:
    settings = _settings(database_url, tmp_path)
    old = load_box(settings)
    assert old is not None
    await _store(database_url, old)

    done = await rotate_key(settings)

    assert done.key_file == key_file(settings) and done.new_key is None
    new = load_box(settings)
    assert new is not None
    assert await _opened(database_url, new) == VALUES
    await _opens_none(database_url, old)
    assert sorted(p.name for p in key_file(settings).parent.iterdir() if p.name.startswith("secret_box")) == [
        "secret_box.key"
    ]
    assert oct(key_file(settings).stat().st_mode & 0o777) == "0o600"


async def test_a_value_the_old_key_does_not_open_stops_the_rotation_and_changes_nothing(
    database_url: str, tmp_path: Path
) -> None:
    settings = _settings(database_url, tmp_path)
    old = load_box(settings)
    assert old is not None
    await _store(database_url, old)
    stranger = CredentialBox.from_text(generate_key())
    (foreign,) = await _store(database_url, stranger, {"foreign": "sealed-elsewhere-123"})
    key_before = key_file(settings).read_text()

    with pytest.raises(SealedWithAnotherKey, match=foreign):
        await rotate_key(settings, new_key=generate_key())

    assert key_file(settings).read_text() == key_before
    assert not key_file(settings).with_name("secret_box.key.new").exists()
    engine = create_engine(database_url, pool_size=1)
    try:
        async with session_scope(create_session_factory(engine)) as session:
            rows = {c.name: c.sealed_value for c in await session.scalars(select(Credential))}
    finally:
        await engine.dispose()
    assert old.open(rows["bot"]) == VALUES["bot"] and stranger.open(rows["foreign"]) == "sealed-elsewhere-123"


async def test_refused_without_a_key_to_rotate_from_or_with_a_bad_new_one(sqlite_url: str, tmp_path: Path) -> None:
    await migrated(sqlite_url)
    with pytest.raises(ConfigurationError, match="does not exist"):
        await rotate_key(_settings(sqlite_url, tmp_path))
    assert not (tmp_path / "data" / "secret_box.key").exists(), "no key made up to rotate from"
    with pytest.raises(ConfigurationError, match="set SECRET_BOX_KEY"):
        await rotate_key(_settings(sqlite_url, tmp_path, redis_url="redis://127.0.0.1:6379/0"))
    with pytest.raises(ConfigurationError, match="^--new-key must be"):
        await rotate_key(_settings(sqlite_url, tmp_path, secret_box_key=generate_key()), new_key="c2hvcnQ=")


async def test_refused_while_an_embedded_server_holds_the_database(sqlite_url: str, tmp_path: Path) -> None:
    settings = _settings(sqlite_url, tmp_path, secret_box_key=generate_key())
    await migrated(sqlite_url)
    lock = DatabaseFileLock.for_url(settings.effective_database_url)
    assert lock is not None
    lock.acquire()  # as `agenthub serve` does
    try:
        with pytest.raises(DatabaseInUse):
            await rotate_key(settings)
    finally:
        lock.release()


async def test_the_command_with_secret_box_key(database_url: str, tmp_path: Path) -> None:
    old_key = generate_key()
    await _store(database_url, CredentialBox.from_text(old_key))
    env = {"DATABASE_URL": database_url, "SECRET_BOX_KEY": old_key, "DATA_DIR": str(tmp_path / "data")}

    result = await agenthub("credentials", "rotate-key", cwd=tmp_path, **env)

    assert result.returncode == 0, result
    assert "Re-encrypted 2 credentials" in result.text and "Set SECRET_BOX_KEY to the new key" in result.text
    new_key = result.stdout.strip().splitlines()[-1]
    assert await _opened(database_url, CredentialBox.from_text(new_key)) == VALUES
    assert old_key not in result.stdout + result.stderr

    given = generate_key()
    again = await agenthub("credentials", "rotate-key", cwd=tmp_path, **{**env, "SECRET_BOX_KEY": new_key,
                                                                         "NEW_SECRET_BOX_KEY": given})
    assert again.returncode == 0, again
    assert given not in again.stdout + again.stderr, "a key the operator gave is not printed"
    assert await _opened(database_url, CredentialBox.from_text(given)) == VALUES


async def test_the_command_in_the_embedded_mode_and_its_refusals(sqlite_url: str, tmp_path: Path) -> None:
    env = {"DATABASE_URL": sqlite_url, "DATA_DIR": str(tmp_path / "data")}
    nothing = await agenthub("credentials", "rotate-key", cwd=tmp_path, **env)
    assert_readable_failure(nothing, "No key to rotate from")
    assert nothing.returncode == 2 and len(nothing.stderr.strip().splitlines()) == 1

    settings = _settings(sqlite_url, tmp_path)
    old = load_box(settings)
    assert old is not None
    await _store(sqlite_url, old)
    result = await agenthub("credentials", "rotate-key", cwd=tmp_path, **env)
    assert result.returncode == 0, result
    assert "Re-encrypted 2 credentials" in result.text and "secret_box.key" in result.text
    new = load_box(settings)
    assert new is not None and await _opened(sqlite_url, new) == VALUES

    bad = await agenthub("credentials", "rotate-key", "--new-key", "bm90LWEta2V5", cwd=tmp_path, **env)
    assert_readable_failure(bad, "--new-key must be")
    assert bad.returncode == 2 and "bm90LWEta2V5" not in bad.text
