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
from agenthub.caller import Caller, default_caller
from agenthub.config import Settings
from agenthub.db.engine import SessionFactory, session_scope


async def _session(connection: HTTPConnection) -> AsyncIterator[AsyncSession]:
    async with session_scope(connection.app.state.session_factory) as session:
        yield session


async def _session_factory(connection: HTTPConnection) -> SessionFactory:
    return connection.app.state.session_factory


async def _bus(connection: HTTPConnection) -> Bus:
    return connection.app.state.bus


async def _settings(connection: HTTPConnection) -> Settings:
    return connection.app.state.settings


async def _caller(connection: HTTPConnection) -> Caller:
    """Who is asking, resolved once per request or WebSocket. Until accounts arrive every
    caller is in the default organisation; they resolve it from the credentials here."""
    return default_caller()


# scope="function": the session commits when the route returns, before the response goes
# out. With the default ("request") the commit would follow the response, so a client that
# got 201 could read the agent back as 404, and a failed commit would follow a success.
SessionDep = Annotated[AsyncSession, Depends(_session, scope="function")]
SessionFactoryDep = Annotated[SessionFactory, Depends(_session_factory)]
BusDep = Annotated[Bus, Depends(_bus)]
SettingsDep = Annotated[Settings, Depends(_settings)]
CallerDep = Annotated[Caller, Depends(_caller)]
