"""Accounts: registration, login, token refresh and logout, the first owner. No HTTP here.
Members and organisations: :mod:`agenthub.accounts.members`.

E-mails are kept in lower case and are unique over the install: a person logs in with one
e-mail to one organisation."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import timedelta

from argon2 import PasswordHasher
from sqlalchemy import func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from agenthub.accounts import invitations
from agenthub.accounts.models import AuthSession, Organization, User
from agenthub.accounts.passwords import hash_password, verify_password
from agenthub.accounts.secrets import digest, new_id, new_secret
from agenthub.accounts.tokens import TokenIssuer
from agenthub.audit import service as audit
from agenthub.caller import DEFAULT_ORG, Caller
from agenthub.db.base import utcnow
from agenthub.errors import Conflict, Unauthorized

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class IssuedTokens:
    access_token: str
    refresh_token: str
    expires_in: int


def normal_email(email: str) -> str:
    return email.strip().lower()


def default_username(email: str) -> str:
    return email.split("@", 1)[0]


async def find_user(session: AsyncSession, email: str) -> User | None:
    return await session.scalar(select(User).where(User.email == normal_email(email)))


async def create_user(
    session: AsyncSession, *, org_id: str, email: str, password: str, role: str, username: str | None = None,
    hasher: PasswordHasher | None = None,
) -> User:
    """A user who can log in at once; Conflict when the e-mail has an account already."""
    email = normal_email(email)
    if await find_user(session, email) is not None:
        raise Conflict(f"an account with the e-mail {email!r} exists already")
    user = User(
        id=new_id("usr"), email=email, username=username or default_username(email),
        password_hash=await hash_password(password, hasher), org_id=org_id, role=role,
    )
    session.add(user)
    try:
        await session.flush()
    except IntegrityError as error:  # registered meanwhile
        await session.rollback()
        raise Conflict(f"an account with the e-mail {email!r} exists already") from error
    return user


async def create_organization(session: AsyncSession, *, name: str) -> Organization:
    organization = Organization(id=new_id("org"), name=name)
    session.add(organization)
    await session.flush()
    return organization


async def register_owner(
    session: AsyncSession, *, email: str, password: str, org_name: str | None, address: str | None = None,
    hasher: PasswordHasher | None = None,
) -> User:
    """A new organisation with this user as its owner."""
    if await find_user(session, email) is not None:
        raise Conflict(f"an account with the e-mail {normal_email(email)!r} exists already")
    organization = await create_organization(session, name=org_name or f"{default_username(email)}'s organisation")
    user = await create_user(
        session, org_id=organization.id, email=email, password=password, role="owner", hasher=hasher
    )
    audit.record(
        session, caller=_as_caller(user), action="organization.create", resource_type="organization",
        resource_id=organization.id, after={"name": organization.name, "owner": user.email}, address=address,
    )
    return user


async def login(
    session: AsyncSession, *, email: str, password: str, issuer: TokenIssuer, refresh_lifetime: timedelta
) -> IssuedTokens:
    user = await find_user(session, email)
    valid = await verify_password(user.password_hash if user else None, password)
    if user is None or not valid:
        raise Unauthorized("wrong e-mail or password")
    return await open_session(session, user=user, issuer=issuer, refresh_lifetime=refresh_lifetime)


async def open_session(
    session: AsyncSession, *, user: User, issuer: TokenIssuer, refresh_lifetime: timedelta
) -> IssuedTokens:
    refresh_token = new_secret()
    login_session = AuthSession(
        id=new_id("ses"), user_id=user.id, refresh_token_hash=digest(refresh_token),
        expires_at=utcnow() + refresh_lifetime,
    )
    session.add(login_session)
    await session.flush()
    return _tokens(user, login_session.id, refresh_token, issuer)


def _tokens(user: User, session_id: str, refresh_token: str, issuer: TokenIssuer) -> IssuedTokens:
    access = issuer.issue(user_id=user.id, org_id=user.org_id, role=user.role, session_id=session_id)
    return IssuedTokens(access, refresh_token, int(issuer.lifetime_seconds))


async def refresh(
    session: AsyncSession, *, refresh_token: str, issuer: TokenIssuer, refresh_lifetime: timedelta
) -> IssuedTokens:
    """New tokens for a valid refresh token, which is used up: it rotates, so a stolen one
    that was used already is worthless."""
    login_session = await session.scalar(
        select(AuthSession).where(AuthSession.refresh_token_hash == digest(refresh_token))
    )
    if login_session is None or login_session.revoked_at is not None or login_session.expires_at <= utcnow():
        raise Unauthorized("the refresh token is not valid: log in again")
    user = await session.get(User, login_session.user_id)
    if user is None:
        raise Unauthorized("the refresh token is not valid: log in again")
    new_token = new_secret()
    login_session.refresh_token_hash = digest(new_token)
    login_session.expires_at = utcnow() + refresh_lifetime
    await session.flush()
    return _tokens(user, login_session.id, new_token, issuer)


async def logout(session: AsyncSession, *, refresh_token: str) -> bool:
    """Revoke the login session of this refresh token (its access tokens stop working);
    False when there was none to revoke."""
    result = await session.execute(
        update(AuthSession)
        .where(AuthSession.refresh_token_hash == digest(refresh_token), AuthSession.revoked_at.is_(None))
        .values(revoked_at=utcnow())
    )
    return bool(result.rowcount)  # type: ignore[attr-defined]


async def revoke_session(session: AsyncSession, *, session_id: str) -> None:
    await session.execute(
        update(AuthSession).where(AuthSession.id == session_id, AuthSession.revoked_at.is_(None))
        .values(revoked_at=utcnow())
    )


async def active_user(session: AsyncSession, *, user_id: str, session_id: str) -> User | None:
    """The user of a login session that is still open, or None."""
    return await session.scalar(
        select(User).join(AuthSession, AuthSession.user_id == User.id).where(
            User.id == user_id, AuthSession.id == session_id, AuthSession.revoked_at.is_(None),
            AuthSession.expires_at > utcnow(),
        )
    )


async def get_user(session: AsyncSession, *, user_id: str) -> User:
    user = await session.get(User, user_id)
    if user is None:
        raise Unauthorized("the account no longer exists")
    return user


async def ensure_first_owner(
    session: AsyncSession, *, email: str | None, password: str | None, hasher: PasswordHasher | None = None
) -> str | None:
    """Create the default organisation's owner unless it has one. Returns the password
    when one was generated (the caller prints it once), else None."""
    if await session.scalar(
        select(func.count()).select_from(User).where(User.org_id == DEFAULT_ORG, User.role == "owner")
    ):
        return None
    generated = None
    if password is None:
        generated = password = new_secret()[:20]
    email = email or "admin@localhost"
    existing = await find_user(session, email)
    if existing is not None:
        raise Conflict(f"{email} has an account in another organisation; it can't be the default owner")
    await create_user(session, org_id=DEFAULT_ORG, email=email, password=password, role="owner", hasher=hasher)
    return generated


async def register_invited(
    session: AsyncSession, *, email: str, password: str, invitation: str, address: str | None = None,
    hasher: PasswordHasher | None = None,
) -> User:
    """Join the organisation of an invitation with its role. When the account can't be made
    (the e-mail has one), the transaction is rolled back and the use is not counted."""
    used = await invitations.redeem(session, token=invitation, email=email)
    user = await create_user(
        session, org_id=used.org_id, email=email, password=password, role=used.role, hasher=hasher
    )
    audit.record(
        session, caller=_as_caller(user), action="member.join", resource_type="member", resource_id=user.id,
        after={"email": user.email, "username": user.username, "role": user.role, "invitation": used.id},
        address=address,
    )
    return user


def _as_caller(user: User) -> Caller:
    """A user who just registered, as the audit log names who made the change."""
    return Caller(org_id=user.org_id, user_id=user.id, role=user.role)
