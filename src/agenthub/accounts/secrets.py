"""Random secrets handed out once (refresh tokens, invitation tokens, API keys) and the
hashes they are stored as. They have 256 bits of entropy, so one SHA-256 is enough: there is
nothing to guess that a slow hash would protect."""

from __future__ import annotations

import hashlib
import secrets
import uuid

API_KEY_PREFIX = "ahk_"
"""What every API key starts with, so a bearer token is known as a key without a lookup."""


def new_secret(prefix: str = "") -> str:
    return prefix + secrets.token_urlsafe(32)


def digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def new_id(kind: str) -> str:
    """``org_1a2b...``, ``usr_...``, ``key_...``: an id that says what it names."""
    return f"{kind}_{uuid.uuid4().hex[:16]}"
