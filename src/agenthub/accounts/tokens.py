"""Access tokens: short-lived JWTs (HS256 only, so ``alg: none`` or a key confusion is
refused by the library, not by us) naming the user, their organisation and role, and the
login session (``sid``) that a logout revokes."""

from __future__ import annotations

import time
import uuid
from dataclasses import dataclass

import jwt
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from agenthub.accounts.models import PlatformSecret
from agenthub.accounts.secrets import new_secret
from agenthub.errors import Unauthorized

ALGORITHM = "HS256"
SIGNING_KEY_NAME = "jwt_signing_key"


@dataclass(frozen=True, slots=True)
class AccessClaims:
    user_id: str
    org_id: str
    role: str
    session_id: str
    expires_at: float


class TokenIssuer:
    """Issues and checks access tokens with one signing key."""

    def __init__(self, key: str, *, lifetime_seconds: float) -> None:
        self._key = key
        self.lifetime_seconds = lifetime_seconds

    def issue(self, *, user_id: str, org_id: str, role: str, session_id: str) -> str:
        now = int(time.time())
        claims = {
            "sub": user_id, "org": org_id, "role": role, "sid": session_id, "typ": "access",
            "iat": now, "exp": now + int(self.lifetime_seconds), "jti": uuid.uuid4().hex,
        }
        return jwt.encode(claims, self._key, algorithm=ALGORITHM)

    def check(self, token: str) -> AccessClaims:
        """The claims of a valid access token; Unauthorized for anything else."""
        try:
            claims = jwt.decode(
                token, self._key, algorithms=[ALGORITHM],
                options={"require": ["exp", "sub", "sid", "org", "role", "typ"]},
            )
        except jwt.ExpiredSignatureError as error:
            raise Unauthorized("the access token has expired: refresh it or log in again") from error
        except jwt.PyJWTError as error:
            raise Unauthorized("the access token is not valid") from error
        if claims["typ"] != "access":
            raise Unauthorized("the access token is not valid")
        return AccessClaims(
            user_id=str(claims["sub"]), org_id=str(claims["org"]), role=str(claims["role"]),
            session_id=str(claims["sid"]), expires_at=float(claims["exp"]),
        )


async def signing_key(session: AsyncSession, configured: str | None) -> str:
    """``JWT_SECRET`` when set; else the key this install made on its first start (kept in
    the database, so every gateway signs and checks with the same one)."""
    if configured:
        return configured
    stored = await session.get(PlatformSecret, SIGNING_KEY_NAME)
    if stored is not None:
        return stored.value
    session.add(PlatformSecret(name=SIGNING_KEY_NAME, value=new_secret()))
    try:
        await session.flush()
    except IntegrityError:  # another process made it first
        await session.rollback()
        stored = await session.get(PlatformSecret, SIGNING_KEY_NAME)
        if stored is None:
            raise
        return stored.value
    return await signing_key(session, None)
