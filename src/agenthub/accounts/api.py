"""Account routes: register, log in, refresh, log out, who am I. Thin: the logic is in
:mod:`agenthub.accounts.service`."""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated

from argon2 import PasswordHasher
from fastapi import APIRouter, Depends, status
from starlette.requests import HTTPConnection

from agenthub.accounts import members, service
from agenthub.accounts.authenticate import AccountsAuthenticator
from agenthub.accounts.schemas import (
    DeleteAccountRequest,
    LoginRequest,
    Me,
    RefreshRequest,
    RegisterRequest,
    TokenPair,
)
from agenthub.deps import AddressDep, SessionDep, SettingsDep, UserDep
from agenthub.errors import Forbidden
from agenthub.json_input import StrictJSONRoute
from agenthub.ops.openapi import PUBLIC, error_responses

router = APIRouter(prefix="/api/v1/auth", tags=["accounts"], route_class=StrictJSONRoute)


def _authenticator(connection: HTTPConnection) -> AccountsAuthenticator:
    return connection.app.state.authenticator


AuthenticatorDep = Annotated[AccountsAuthenticator, Depends(_authenticator)]


async def _password_hasher(connection: HTTPConnection) -> PasswordHasher:
    return connection.app.state.password_hasher


PasswordHasherDep = Annotated[PasswordHasher, Depends(_password_hasher)]
"""Hashes new passwords at the install's cost (``ARGON2_*``)."""


def _refresh_lifetime(settings: SettingsDep) -> timedelta:
    return timedelta(days=settings.refresh_token_expire_days)


RefreshLifetimeDep = Annotated[timedelta, Depends(_refresh_lifetime)]


def _pair(tokens: service.IssuedTokens) -> TokenPair:
    return TokenPair(
        access_token=tokens.access_token, refresh_token=tokens.refresh_token, expires_in=tokens.expires_in
    )


@router.post(
    "/register", status_code=status.HTTP_201_CREATED, response_model=TokenPair, openapi_extra=PUBLIC,
    responses=error_responses(403, 409, meanings={
        403: "Registration is closed on this server and no invitation was sent",
        409: "The e-mail has an account already",
    }),
)
async def register(
    data: RegisterRequest, session: SessionDep, settings: SettingsDep, authenticator: AuthenticatorDep,
    lifetime: RefreshLifetimeDep, address: AddressDep, hasher: PasswordHasherDep,
) -> TokenPair:
    """A new account, logged in. With an ``invitation`` the user joins its organisation with
    the invited role; without one, a new organisation is made with the user as its owner
    (unless ``REGISTRATION=closed``)."""
    password = data.password.get_secret_value()
    if data.invitation is not None:
        user = await service.register_invited(
            session, email=data.email, password=password, invitation=data.invitation, address=address,
            hasher=hasher,
        )
    elif settings.registration == "closed":
        raise Forbidden("registration is closed on this server: ask an organisation for an invitation")
    else:
        user = await service.register_owner(
            session, email=data.email, password=password, org_name=data.org_name, address=address,
            hasher=hasher,
        )
    tokens = await service.open_session(session, user=user, issuer=authenticator.issuer, refresh_lifetime=lifetime)
    return _pair(tokens)


@router.post("/login", response_model=TokenPair, openapi_extra=PUBLIC, responses=error_responses(401))
async def login(
    data: LoginRequest, session: SessionDep, authenticator: AuthenticatorDep, lifetime: RefreshLifetimeDep
) -> TokenPair:
    tokens = await service.login(
        session, email=data.email, password=data.password.get_secret_value(),
        issuer=authenticator.issuer, refresh_lifetime=lifetime,
    )
    return _pair(tokens)


@router.post("/refresh", response_model=TokenPair, openapi_extra=PUBLIC, responses=error_responses(401))
async def refresh(
    data: RefreshRequest, session: SessionDep, authenticator: AuthenticatorDep, lifetime: RefreshLifetimeDep
) -> TokenPair:
    """New tokens; the refresh token sent is used up (send the new one next time)."""
    tokens = await service.refresh(
        session, refresh_token=data.refresh_token, issuer=authenticator.issuer, refresh_lifetime=lifetime
    )
    return _pair(tokens)


@router.post("/logout", status_code=status.HTTP_204_NO_CONTENT, openapi_extra=PUBLIC)
async def logout(data: RefreshRequest, session: SessionDep, authenticator: AuthenticatorDep) -> None:
    """End the login of this refresh token: it and its access tokens stop working."""
    await service.logout(session, refresh_token=data.refresh_token)
    await session.commit()
    authenticator.forget()


@router.get("/me", response_model=Me)
async def me(caller: UserDep, session: SessionDep) -> Me:
    user = await service.get_user(session, user_id=caller.user_id or "")
    return Me(id=user.id, email=user.email, username=user.username, org_id=user.org_id, role=user.role)  # type: ignore[arg-type]


@router.delete(
    "/me", status_code=status.HTTP_204_NO_CONTENT,
    responses=error_responses(403, 409, meanings={
        403: "The password is not right (or the caller is an API key)",
        409: "The last owner of an organisation that has other members: make another member an owner first",
    }),
)
async def delete_me(
    data: DeleteAccountRequest, caller: UserDep, session: SessionDep, authenticator: AuthenticatorDep,
    address: AddressDep,
) -> None:
    """Delete the caller's account, confirmed by its password: its sessions end, its tokens
    get 401. The organisation stays (with its agents and chats) for its other members."""
    await members.delete_account(
        session, caller=caller, password=data.password.get_secret_value(), address=address
    )
    await session.commit()
    authenticator.forget()
