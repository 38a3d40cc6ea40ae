"""Signed download links of the gateway's own (for the local storage, which can't sign):
``/api/v1/files/{id}/signed?expires=<unix time>&signature=<hex>``, an HMAC-SHA256 over the
id and the expiry with a key derived from the access tokens' signing key (``JWT_SECRET``,
or the one kept in the database), so every gateway checks what any other signed."""

from __future__ import annotations

import hashlib
import hmac
import time

from agenthub.accounts.tokens import signing_key
from agenthub.config import Settings
from agenthub.db.engine import SessionFactory, session_scope
from agenthub.errors import Forbidden

_PURPOSE = b"agenthub.files.signed-download.v1"


class UrlSigner:
    def __init__(self, secret: str) -> None:
        self._key = hmac.new(secret.encode(), _PURPOSE, hashlib.sha256).digest()

    def signature(self, file_id: str, expires: int) -> str:
        return hmac.new(self._key, f"{file_id}\n{expires}".encode(), hashlib.sha256).hexdigest()

    def sign(self, file_id: str, expires: int) -> str:
        """The query string of a link to ``file_id`` valid until ``expires`` (unix time)."""
        return f"expires={expires}&signature={self.signature(file_id, expires)}"

    def check(self, file_id: str, expires: int, signature: str, *, now: float | None = None) -> None:
        """Forbidden (403) for a signature that is not this id's and expiry's, or a link that has expired."""
        given = signature.lower()
        if not (given.isascii() and hmac.compare_digest(self.signature(file_id, expires), given)):
            raise Forbidden("the link's signature is not valid")
        if (time.time() if now is None else now) >= expires:
            raise Forbidden("the link has expired: ask for a new one (POST /api/v1/files/{id}/url)")


async def file_signer(settings: Settings, sessions: SessionFactory) -> UrlSigner:
    """The signer of this install: its key derived from ``JWT_SECRET`` or the stored one."""
    configured = settings.jwt_secret.get_secret_value() if settings.jwt_secret else None
    async with session_scope(sessions) as session:
        return UrlSigner(await signing_key(session, configured))
