"""Invitations: a token that lets whoever has it register into an organisation with a role
(single use by default; several uses make it a join link). Only its hash is stored; the
token is shown once, when the invitation is made. Revoking one deletes it."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from agenthub.accounts.models import Invitation
from agenthub.accounts.roles import check_may_grant
from agenthub.accounts.schemas import InvitationCreate
from agenthub.accounts.secrets import digest, new_id, new_secret
from agenthub.audit import service as audit
from agenthub.caller import Caller
from agenthub.db.base import utcnow
from agenthub.errors import InvalidInput, NotFound

_NOT_VALID = "the invitation is not valid: it may have expired, been used up or revoked"


@dataclass(frozen=True, slots=True)
class NewInvitation:
    invitation: Invitation
    token: str


def _snapshot(invitation: Invitation) -> dict[str, Any]:
    """An invitation as the audit log keeps it (never its token)."""
    expires_at = invitation.expires_at.isoformat() if invitation.expires_at else None
    return {"email": invitation.email, "role": invitation.role, "max_uses": invitation.max_uses, "expires_at": expires_at}


async def create(
    session: AsyncSession, *, caller: Caller, data: InvitationCreate, address: str | None = None
) -> NewInvitation:
    check_may_grant(caller, data.role)
    token = new_secret()
    invitation = Invitation(
        id=new_id("inv"), org_id=caller.org_id, token_hash=digest(token),
        email=data.email.strip().lower() if data.email else None, role=data.role, max_uses=data.max_uses, uses=0,
        expires_at=utcnow() + timedelta(seconds=data.expires_in), created_by=caller.user_id,
    )
    session.add(invitation)
    audit.record(
        session, caller=caller, action="invitation.create", resource_type="invitation", resource_id=invitation.id,
        after=_snapshot(invitation), address=address,
    )
    await session.flush()
    return NewInvitation(invitation, token)


async def list_(session: AsyncSession, *, org_id: str) -> list[Invitation]:
    return list(await session.scalars(
        select(Invitation).where(Invitation.org_id == org_id).order_by(Invitation.created_at, Invitation.id)
    ))


async def revoke(session: AsyncSession, *, caller: Caller, invitation_id: str, address: str | None = None) -> None:
    """Delete the invitation: its token no longer registers anyone. 404 for another
    organisation's."""
    invitation = await session.get(Invitation, invitation_id)
    if invitation is None or invitation.org_id != caller.org_id:
        raise NotFound(f"no invitation with the id {invitation_id!r}")
    audit.record(
        session, caller=caller, action="invitation.delete", resource_type="invitation", resource_id=invitation.id,
        before=_snapshot(invitation), address=address,
    )
    await session.delete(invitation)
    await session.flush()


async def redeem(session: AsyncSession, *, token: str, email: str) -> Invitation:
    """Use the invitation once; it names the organisation and the role. Refused (422, field
    ``invitation``) when unknown, revoked, expired, used up, or meant for another e-mail."""
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
    return invitation
