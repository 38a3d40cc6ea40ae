"""The key credentials are sealed with, and the sealing: PyNaCl's SecretBox (XSalsa20 and
Poly1305, a random nonce for every value) under ``SECRET_BOX_KEY``, 32 random bytes in
standard base64.

Where the key comes from (:func:`load_box`): ``SECRET_BOX_KEY`` when it is set; in the
embedded mode (no ``REDIS_URL``) without it, the file ``DATA_DIR/secret_box.key``, made on
the first start (readable only by its user); in production without it, nowhere: the
server starts, and what needs the key answers 503 ``secret_box_key_missing``.
"""

from __future__ import annotations

import base64
import binascii
import contextlib
import os
from pathlib import Path

import nacl.exceptions
import nacl.secret
import nacl.utils

from agenthub.config import ConfigurationError, Settings, decode_secret_box_key
from agenthub.errors import AgentHubError, ServiceUnavailable

KEY_FILE_NAME = "secret_box.key"


class SecretBoxKeyMissing(ServiceUnavailable):
    """Credentials can't be sealed or opened: no key is configured."""

    code = "secret_box_key_missing"

    def __init__(self) -> None:
        super().__init__(
            "Credentials are not available: SECRET_BOX_KEY is not set on the server "
            "(32 random bytes in standard base64, such as `openssl rand -base64 32` prints)."
        )


class SealedWithAnotherKey(AgentHubError):
    """A sealed value that this key does not open (another key sealed it, or it was altered)."""

    code = "credential_unreadable"


class CredentialBox:
    """Seals and opens credential values with one key."""

    def __init__(self, key: bytes) -> None:
        self._box = nacl.secret.SecretBox(key)

    @classmethod
    def from_text(cls, text: str) -> CredentialBox:
        """A box under ``text``, a key in standard base64; ValueError for anything else."""
        return cls(decode_secret_box_key(text))

    def seal(self, value: str) -> str:
        """``value`` encrypted, as standard base64 of the nonce and the ciphertext."""
        return base64.b64encode(bytes(self._box.encrypt(value.encode()))).decode("ascii")

    def open(self, sealed: str) -> str:
        try:
            return self._box.decrypt(base64.b64decode(sealed, validate=True)).decode()
        except (nacl.exceptions.CryptoError, binascii.Error, ValueError):
            raise SealedWithAnotherKey(
                "a credential can't be opened with the configured key: it was sealed with another "
                "SECRET_BOX_KEY (or the stored value was altered)"
            ) from None


def generate_key() -> str:
    """A new key: 32 random bytes in standard base64."""
    return base64.b64encode(nacl.utils.random(nacl.secret.SecretBox.KEY_SIZE)).decode("ascii")


def key_file(settings: Settings) -> Path:
    return settings.data_dir / KEY_FILE_NAME


def load_box(settings: Settings, *, create: bool = True) -> CredentialBox | None:
    """The box of this deployment (see the module), None when there is no key. ``create``:
    make the embedded key file when it does not exist yet. Raises ConfigurationError, in one
    line, for a key file that holds no valid key."""
    if settings.secret_box_key is not None:  # validated with the settings
        return CredentialBox.from_text(settings.secret_box_key.get_secret_value())
    if not settings.embedded:
        return None
    path = key_file(settings)
    if not create and not path.exists():
        return None
    text = _read_or_create(path)
    try:
        return CredentialBox.from_text(text)
    except ValueError as error:
        raise ConfigurationError(
            f"The secret box key file {path} holds no valid key: it {error}. Restore it from a backup "
            "(without it the stored credentials can't be opened), or set SECRET_BOX_KEY."
        ) from None


def _read_or_create(path: Path) -> str:
    """The key in ``path``; a new one put there first when the file does not exist. The
    new key is written whole to a file of its own, then linked in place, which fails when
    another process put one there first: two processes starting at once keep the same key."""
    try:
        return path.read_text()
    except FileNotFoundError:
        pass
    path.parent.mkdir(parents=True, exist_ok=True)
    written = _write_new(path.with_name(f"{path.name}.{os.getpid()}.tmp"), generate_key())
    try:
        os.link(written, path)
    except FileExistsError:
        pass
    finally:
        written.unlink()
    return path.read_text()


def _write_new(path: Path, key: str) -> Path:
    """``key`` in a new file ``path`` (replacing one left behind), readable only by its user."""
    with contextlib.suppress(FileNotFoundError):
        path.unlink()
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as file:
        file.write(key + "\n")
        file.flush()
        os.fsync(file.fileno())
    return path


def stage_key_file(path: Path, key: str) -> Path:
    """``key`` written next to ``path`` (``secret_box.key.new``, readable only by its user),
    to be put in its place by :func:`os.replace` once the credentials are sealed under it."""
    return _write_new(path.with_name(path.name + ".new"), key)
