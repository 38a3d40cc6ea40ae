"""Typed FastAPI dependencies of the domain routes: each asks for exactly the collaborator it
uses. They work for HTTP requests and WebSockets alike (``HTTPConnection``). Nothing here
reaches the runtime or the channels: routes that need those take their dependencies from
:mod:`agenthub.gateway_deps`.

Every dependency is an ``async def``, even one that only reads ``app.state``: FastAPI runs
a plain ``def`` dependency in a worker thread, a thread hand-off (and its wake-up latency) per
dependency per request."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Annotated

from fastapi import Depends
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.requests import HTTPConnection

from agenthub.bus import Bus
from agenthub.caller import DEFAULT_ORG, Authenticator, Caller, client_address, resolve_caller
from agenthub.config import Settings
from agenthub.db.engine import SessionFactory, session_scope
from agenthub.errors import Forbidden, NotFound, Unauthorized


async def _session(connection: HTTPConnection) -> AsyncIterator[AsyncSession]:
    async with session_scope(connection.app.state.session_factory) as session:
        yield session


async def _session_factory(connection: HTTPConnection) -> SessionFactory:
    return connection.app.state.session_factory


async def _bus(connection: HTTPConnection) -> Bus:
    return connection.app.state.bus


async def _settings(connection: HTTPConnection) -> Settings:
    return connection.app.state.settings


def _authenticator(connection: HTTPConnection) -> Authenticator:
    return connection.app.state.authenticator


def _address(connection: HTTPConnection) -> str | None:
    return client_address(connection)


async def _maybe_caller(connection: HTTPConnection) -> Caller | None:
    """Who is asking, resolved once per request or WebSocket; None for a request with no
    credentials at all (an anonymous visitor). Credentials that are not valid: 401."""
    return await resolve_caller(connection, _authenticator(connection))


async def _socket_caller(connection: HTTPConnection) -> Caller | Unauthorized | None:
    """For a WebSocket, which can say why only after it is accepted: the caller, None for
    an anonymous visitor, or the reason its credentials are refused."""
    try:
        return await _maybe_caller(connection)
    except Unauthorized as refused:
        return refused


async def _caller(connection: HTTPConnection, caller: Annotated[Caller | None, Depends(_maybe_caller)]) -> Caller:
    """Who is asking; 401 without credentials. On a route of one agent (``{agent_id}`` in
    its path), an API key limited to other agents gets 404, as for an agent that isn't there."""
    if caller is None:
        raise Unauthorized("log in first: send 'Authorization: Bearer <access token or API key>'")
    agent_id = connection.path_params.get("agent_id")
    if agent_id is not None and not caller.may_reach(agent_id):
        raise NotFound(f"agent {agent_id!r} not found")
    return caller


async def _admin(caller: Annotated[Caller, Depends(_caller)]) -> Caller:
    """An owner or admin of the organisation (an API key is neither); 403 for anyone else."""
    if not caller.is_user:
        raise Forbidden("this needs an owner's or admin's access token, not an API key")
    if not caller.at_least("admin"):
        raise Forbidden("only an owner or admin of the organisation may do this")
    return caller


async def _operator(caller: Annotated[Caller, Depends(_admin)]) -> Caller:
    """Who runs the install: an owner or admin of the default organisation (the one the
    first owner is made in). Platform-wide things (dead letters of every organisation) are
    theirs alone: 403 for anyone else."""
    if caller.org_id != DEFAULT_ORG:
        raise Forbidden("only the operators of this install (owners or admins of its default organisation) may")
    return caller


async def _user(caller: Annotated[Caller, Depends(_caller)]) -> Caller:
    """A logged-in user, not a program: 403 for an API key."""
    if not caller.is_user:
        raise Forbidden("this needs a user's access token, not an API key")
    return caller


# scope="function": the session commits when the route returns, before the response goes
# out. With the default ("request") the commit would follow the response, so a client that
# got 201 could read the agent back as 404, and a failed commit would follow a success.
SessionDep = Annotated[AsyncSession, Depends(_session, scope="function")]
SessionFactoryDep = Annotated[SessionFactory, Depends(_session_factory)]
BusDep = Annotated[Bus, Depends(_bus)]
SettingsDep = Annotated[Settings, Depends(_settings)]
CallerDep = Annotated[Caller, Depends(_caller)]
"""Any authenticated caller: a user or an API key."""
MaybeCallerDep = Annotated[Caller | None, Depends(_maybe_caller)]
"""The caller, or None for an anonymous visitor (a public agent's chat)."""
SocketCallerDep = Annotated[Caller | Unauthorized | None, Depends(_socket_caller)]
AdminDep = Annotated[Caller, Depends(_admin)]
OperatorDep = Annotated[Caller, Depends(_operator)]
AddressDep = Annotated[str | None, Depends(_address)]
"""The client's address (what the audit log and the anonymous rate limit go by)."""
UserDep = Annotated[Caller, Depends(_user)]
