"""Invitations: a token that lets whoever has it register into an organisation with a role
(single use by default; several uses make it a join link). Only its hash is stored."""

from __future__ import annotations

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from agenthub.accounts.models import Invitation
from agenthub.accounts.secrets import digest
from agenthub.db.base import utcnow
from agenthub.errors import InvalidInput

_NOT_VALID = "the invitation is not valid: it may have expired or been used up"


async def redeem(session: AsyncSession, *, token: str, email: str) -> tuple[str, str]:
    """Use the invitation once; its organisation and role. Refused (422, field
    ``invitation``) when unknown, expired, used up, or meant for another e-mail."""
    invitation = await session.scalar(select(Invitation).where(Invitation.token_hash == digest(token)))
    if invitation is None or (invitation.expires_at is not None and invitation.expires_at <= utcnow()):
        raise InvalidInput(_NOT_VALID, field="invitation")
    if invitation.email is not None and invitation.email != email.strip().lower():
        raise InvalidInput("the invitation is for another e-mail address", field="invitation")
    # Counted with a condition, so two registrations can't both take the last use.
    result = await session.execute(
        update(Invitation)
        .where(Invitation.id == invitation.id, Invitation.uses < Invitation.max_uses)
        .values(uses=Invitation.uses + 1)
    )
    if not result.rowcount:  # type: ignore[attr-defined]
        raise InvalidInput(_NOT_VALID, field="invitation")
    return invitation.org_id, invitation.role
