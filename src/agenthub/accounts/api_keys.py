"""API keys: how programs call AgentHub. A key acts for its organisation as a ``member``
(see :class:`~agenthub.caller.Caller`), on every agent of it or only on the agents it
lists. It is shown once, when it is made; the server keeps its SHA-256 alone. No HTTP here.

Who sees which keys: owners and admins every key of the organisation; a member the keys
they made. A revoked key is gone from the list and refused at once (the caller calls
``AccountsAuthenticator.forget`` after the commit)."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import Select, select
from sqlalchemy.ext.asyncio import AsyncSession

from agenthub.accounts.models import ApiKey
from agenthub.accounts.secrets import API_KEY_PREFIX, digest, new_id, new_secret
from agenthub.caller import Caller
from agenthub.db.base import utcnow
from agenthub.errors import NotFound

PREFIX_LENGTH = 12
"""Characters of a key kept in the clear (``ahk_`` and 8 more), to tell keys apart."""


def _visible_to(caller: Caller) -> Select[ApiKey]:
    """The live keys of the caller's organisation that the caller may see."""
    query = select(ApiKey).where(ApiKey.org_id == caller.org_id, ApiKey.revoked_at.is_(None))
    if not caller.at_least("admin"):
        query = query.where(ApiKey.user_id == caller.user_id)
    return query


async def create(
    session: AsyncSession, *, caller: Caller, name: str, agent_ids: Sequence[str] | None
) -> tuple[ApiKey, str]:
    """A new key of the caller's organisation, made by the caller (a user); returns the row
    and the key itself, which is never stored."""
    key = new_secret(API_KEY_PREFIX)
    api_key = ApiKey(
        id=new_id("key"), org_id=caller.org_id, user_id=caller.user_id, name=name,
        prefix=key[:PREFIX_LENGTH], key_hash=digest(key),
        agent_ids=None if agent_ids is None else list(dict.fromkeys(agent_ids)),
        created_at=utcnow(),
    )
    session.add(api_key)
    await session.flush()
    return api_key, key


async def list_(session: AsyncSession, *, caller: Caller) -> list[ApiKey]:
    rows = await session.scalars(_visible_to(caller).order_by(ApiKey.created_at, ApiKey.id))
    return list(rows)


async def revoke(session: AsyncSession, *, caller: Caller, key_id: str) -> ApiKey:
    """Revoke a key the caller may see; NotFound for any other (another organisation's,
    another member's, one revoked already)."""
    api_key = await session.scalar(_visible_to(caller).where(ApiKey.id == key_id))
    if api_key is None:
        raise NotFound(f"API key {key_id!r} not found")
    api_key.revoked_at = utcnow()
    await session.flush()
    return api_key


def described(api_key: ApiKey) -> dict[str, object]:
    """What the audit log keeps of a key (never the key or its hash)."""
    return {"name": api_key.name, "prefix": api_key.prefix, "agent_ids": api_key.agent_ids}
