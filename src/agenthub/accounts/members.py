"""An organisation and its members: rename it, add, change and remove members, delete one's
own account. No HTTP here; every change is audited in the same transaction.

The rules of roles (``member`` < ``admin`` < ``owner``):

- owners and admins add, change and remove members; members only read the list;
- only an owner makes an owner (by adding, inviting or promoting one) or changes or
  removes one; an admin manages admins and members, themselves included;
- an organisation keeps at least one owner: the last one can't be demoted or removed, nor
  delete their account while the organisation has other members (409);
- a removed member's sessions end at once (their tokens get 401).
"""

from __future__ import annotations

from typing import Any

from argon2 import PasswordHasher
from sqlalchemy import delete, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from agenthub.accounts import service
from agenthub.accounts.models import Organization, User
from agenthub.accounts.passwords import verify_password
from agenthub.accounts.roles import check_may_change, check_may_grant
from agenthub.accounts.schemas import MemberCreate, MemberUpdate
from agenthub.audit import service as audit
from agenthub.caller import Caller
from agenthub.errors import Conflict, Forbidden, NotFound

LAST_OWNER = "an organisation keeps at least one owner: make another member an owner first"


def snapshot(user: User) -> dict[str, Any]:
    """A member as the audit log keeps it (never the password's hash)."""
    return {"email": user.email, "username": user.username, "role": user.role}


async def get_organization(session: AsyncSession, *, org_id: str) -> Organization:
    organization = await session.get(Organization, org_id)
    if organization is None:
        raise NotFound(f"no organisation with the id {org_id!r}")
    return organization


async def rename_organization(
    session: AsyncSession, *, caller: Caller, name: str, address: str | None = None
) -> Organization:
    organization = await get_organization(session, org_id=caller.org_id)
    if organization.name != name:
        before = {"name": organization.name}
        organization.name = name
        audit.record(
            session, caller=caller, action="organization.update", resource_type="organization",
            resource_id=organization.id, before=before, after={"name": name}, address=address,
        )
        await session.flush()
    return organization


async def list_members(session: AsyncSession, *, org_id: str) -> list[User]:
    return list(await session.scalars(select(User).where(User.org_id == org_id).order_by(User.created_at, User.id)))


async def get_member(session: AsyncSession, *, org_id: str, user_id: str) -> User:
    """A member of this organisation; 404 for anyone else (another organisation's member
    is not told apart from nobody)."""
    user = await session.get(User, user_id)
    if user is None or user.org_id != org_id:
        raise NotFound(f"no member with the id {user_id!r}")
    return user


async def add_member(
    session: AsyncSession, *, caller: Caller, data: MemberCreate, address: str | None = None,
    hasher: PasswordHasher | None = None,
) -> User:
    """A new user of the caller's organisation, who can log in at once."""
    check_may_grant(caller, data.role)
    user = await service.create_user(
        session, org_id=caller.org_id, email=data.email, password=data.password.get_secret_value(),
        role=data.role, username=data.username, hasher=hasher,
    )
    audit.record(
        session, caller=caller, action="member.create", resource_type="member", resource_id=user.id,
        after=snapshot(user), address=address,
    )
    return user


async def update_member(
    session: AsyncSession, *, caller: Caller, user_id: str, data: MemberUpdate, address: str | None = None
) -> User:
    """Change a member's role or username (what is not given is kept)."""
    await _lock_organization(session, caller.org_id)
    user = await get_member(session, org_id=caller.org_id, user_id=user_id)
    check_may_change(caller, user.role)
    before = snapshot(user)
    if data.role is not None and data.role != user.role:
        check_may_grant(caller, data.role)
        if user.role == "owner":
            await _check_not_last_owner(session, user)
        user.role = data.role
    if data.username is not None:
        user.username = data.username
    after = snapshot(user)
    if after != before:
        audit.record(
            session, caller=caller, action="member.update", resource_type="member", resource_id=user.id,
            before=before, after=after, address=address,
        )
        await session.flush()
    return user


async def remove_member(
    session: AsyncSession, *, caller: Caller, user_id: str, address: str | None = None
) -> None:
    """Delete a member's account: their sessions end with it."""
    await _lock_organization(session, caller.org_id)
    user = await get_member(session, org_id=caller.org_id, user_id=user_id)
    check_may_change(caller, user.role)
    if user.role == "owner":
        await _check_not_last_owner(session, user)
    await _delete(session, user=user, caller=caller, action="member.delete", address=address)


async def delete_account(
    session: AsyncSession, *, caller: Caller, password: str, address: str | None = None
) -> None:
    """Delete the caller's own account, once the password confirms it. The last owner of an
    organisation that has other members can't (409); the organisation and what it holds
    (agents, chats, usage) stay, for its other members or a later owner."""
    user = await service.get_user(session, user_id=caller.user_id or "")
    if not await verify_password(user.password_hash, password):
        raise Forbidden("the password is not right: the account is kept")
    await _lock_organization(session, user.org_id)
    if user.role == "owner":
        others = await session.scalar(
            select(func.count()).select_from(User).where(User.org_id == user.org_id, User.id != user.id)
        )
        if others:
            await _check_not_last_owner(session, user)
    await _delete(session, user=user, caller=caller, action="user.delete", address=address)


async def _delete(session: AsyncSession, *, user: User, caller: Caller, action: str, address: str | None) -> None:
    audit.record(
        session, caller=caller, action=action, resource_type="member", resource_id=user.id,
        before=snapshot(user), address=address, org_id=user.org_id,
    )
    # The database deletes the user's login sessions with it (ON DELETE CASCADE).
    await session.execute(delete(User).where(User.id == user.id))
    session.expunge(user)


async def _check_not_last_owner(session: AsyncSession, user: User) -> None:
    owners = await session.scalar(
        select(func.count()).select_from(User).where(User.org_id == user.org_id, User.role == "owner")
    )
    if (owners or 0) <= 1:
        raise Conflict(LAST_OWNER)


async def _lock_organization(session: AsyncSession, org_id: str) -> None:
    """Hold the organisation's row until the transaction ends, so two changes of its owners
    at once (two owners demoting each other) are made one after the other and the check
    that one owner stays holds (PostgreSQL; an embedded server's transactions on SQLite run one
    at a time on its one connection)."""
    await session.execute(select(Organization.id).where(Organization.id == org_id).with_for_update())
