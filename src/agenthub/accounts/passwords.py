"""Passwords, hashed with Argon2id (argon2-cffi's defaults, RFC 9106's second choice).
Hashing takes tens of milliseconds on purpose: it runs in a thread, off the event loop."""

from __future__ import annotations

import asyncio
import functools

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

MIN_LENGTH = 8

_hasher = PasswordHasher()
"""Stateless parameters only (no registry): safe to share, as argon2-cffi documents."""


def make_hasher(*, time_cost: int, memory_kib: int, parallelism: int) -> PasswordHasher:
    """A hasher with the install's cost (``ARGON2_TIME_COST``, ``ARGON2_MEMORY_KIB``,
    ``ARGON2_PARALLELISM``). A hash keeps its parameters: changing them applies to new
    passwords, and old ones still verify."""
    return PasswordHasher(time_cost=time_cost, memory_cost=memory_kib, parallelism=parallelism)


async def hash_password(password: str, hasher: PasswordHasher | None = None) -> str:
    return await asyncio.to_thread((hasher or _hasher).hash, password)


async def verify_password(password_hash: str | None, password: str) -> bool:
    """Whether ``password`` is the one ``password_hash`` was made of. None (no user has the
    e-mail given) verifies against a hash of no one's password, so a login takes as long
    either way and doesn't tell which e-mails have accounts; it is always False."""
    def _verify() -> bool:
        try:
            return _hasher.verify(password_hash or _dummy_hash(), password) and password_hash is not None
        except (VerificationError, InvalidHashError):
            return False

    return await asyncio.to_thread(_verify)


@functools.cache
def _dummy_hash() -> str:
    """Made at the first login of an unknown e-mail (in its thread), not at import: every
    process that imports accounts would pay for a hash otherwise."""
    return _hasher.hash("not a password anyone has")
