"""From credentials to a :class:`~agenthub.caller.Caller`: an access token (a JWT, checked
against its login session and its user as they are now) or an API key (looked up by its
hash).

What the database said is kept for ``CACHE_SECONDS``, so a turn over HTTP costs no query
for its credentials. A logout, a revoked key or a removed member is seen at once by the
process that made the change (it calls :meth:`AccountsAuthenticator.forget`) and by every
other process within ``CACHE_SECONDS``."""

from __future__ import annotations

import time
from dataclasses import dataclass

from sqlalchemy import select, update
from starlette.requests import HTTPConnection

from agenthub.accounts import service
from agenthub.accounts.models import ApiKey
from agenthub.accounts.secrets import API_KEY_PREFIX, digest
from agenthub.accounts.tokens import TokenIssuer
from agenthub.caller import Caller, bearer_token
from agenthub.db.base import utcnow
from agenthub.db.engine import SessionFactory
from agenthub.errors import Unauthorized

CACHE_SECONDS = 5.0
LAST_USED_EVERY = 60.0
"""Seconds between two writes of a key's ``last_used_at`` (a busy key is not a write per request)."""


@dataclass(slots=True)
class _Known:
    caller: Caller | None  # None: not valid
    until: float
    last_used_written: float = 0.0


class AccountsAuthenticator:
    def __init__(self, *, sessions: SessionFactory, issuer: TokenIssuer) -> None:
        self._sessions = sessions
        self.issuer = issuer
        self._known: dict[str, _Known] = {}

    async def caller(self, connection: HTTPConnection) -> Caller | None:
        token = bearer_token(connection)
        if token is None:
            return None
        return await self.caller_for(token)

    async def caller_for(self, token: str) -> Caller:
        """The caller these credentials are, or Unauthorized."""
        if token.startswith(API_KEY_PREFIX):
            return await self._key_caller(token)
        claims = self.issuer.check(token)  # the signature and expiry, before anything is looked up
        key = f"sid:{claims.session_id}:{claims.user_id}"
        known = self._fresh(key)
        if known is None:
            async with self._sessions() as session:
                user = await service.active_user(session, user_id=claims.user_id, session_id=claims.session_id)
            caller = None if user is None else Caller(org_id=user.org_id, user_id=user.id, role=user.role)
            known = self._remember(key, caller)
        if known.caller is None:
            raise Unauthorized("the access token is no longer valid: log in again")
        return known.caller

    async def _key_caller(self, token: str) -> Caller:
        key_hash = digest(token)
        known = self._fresh(key_hash)
        if known is None:
            async with self._sessions() as session:
                api_key = await session.scalar(
                    select(ApiKey).where(ApiKey.key_hash == key_hash, ApiKey.revoked_at.is_(None))
                )
            caller = None if api_key is None else Caller(
                org_id=api_key.org_id, api_key_id=api_key.id, role="member",
                agent_ids=None if api_key.agent_ids is None else frozenset(api_key.agent_ids),
            )
            known = self._remember(key_hash, caller)
        if known.caller is None:
            raise Unauthorized("the API key is not valid")
        await self._note_use(known)
        return known.caller

    async def _note_use(self, known: _Known) -> None:
        now = time.monotonic()
        if known.caller is None or now - known.last_used_written < LAST_USED_EVERY:
            return
        known.last_used_written = now
        async with self._sessions() as session:
            await session.execute(
                update(ApiKey).where(ApiKey.id == known.caller.api_key_id).values(last_used_at=utcnow())
            )
            await session.commit()

    def _fresh(self, key: str) -> _Known | None:
        known = self._known.get(key)
        if known is None or known.until < time.monotonic():
            return None
        return known

    def _remember(self, key: str, caller: Caller | None) -> _Known:
        if len(self._known) > 10_000:
            now = time.monotonic()
            self._known = {k: v for k, v in self._known.items() if v.until >= now}
        known = _Known(caller, time.monotonic() + CACHE_SECONDS)
        self._known[key] = known
        return known

    def forget(self) -> None:
        """Drop everything remembered: called after a change to sessions, keys or members."""
        self._known.clear()
