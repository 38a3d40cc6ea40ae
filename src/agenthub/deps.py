"""Typed FastAPI dependencies: each route asks for exactly the collaborator it uses."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Annotated

from fastapi import Depends, Request
from sqlalchemy.ext.asyncio import AsyncSession

from agenthub.agents.models import DEFAULT_ORG
from agenthub.bus import Bus
from agenthub.channels.gateway import Gateway
from agenthub.db.engine import SessionFactory, session_scope
from agenthub.runtime.supervisor import Supervisor


async def _session(request: Request) -> AsyncIterator[AsyncSession]:
    async with session_scope(request.app.state.session_factory) as session:
        yield session


def _session_factory(request: Request) -> SessionFactory:
    return request.app.state.session_factory


def _supervisor(request: Request) -> Supervisor:
    return request.app.state.supervisor


def _gateway(request: Request) -> Gateway:
    return request.app.state.gateway


def _bus(request: Request) -> Bus:
    return request.app.state.bus


def _org() -> str:
    """The caller's organisation. Until accounts arrive every caller is in the default one;
    every query already takes it, so scoping needs no change when they do."""
    return DEFAULT_ORG


# scope="function": the session commits when the route returns, before the response goes
# out. With the default ("request") the commit would follow the response, so a client that
# got 201 could read the agent back as 404, and a failed commit would follow a success.
SessionDep = Annotated[AsyncSession, Depends(_session, scope="function")]
SessionFactoryDep = Annotated[SessionFactory, Depends(_session_factory)]
SupervisorDep = Annotated[Supervisor, Depends(_supervisor)]
GatewayDep = Annotated[Gateway, Depends(_gateway)]
BusDep = Annotated[Bus, Depends(_bus)]
OrgDep = Annotated[str, Depends(_org)]
