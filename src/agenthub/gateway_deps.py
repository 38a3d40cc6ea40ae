"""Typed FastAPI dependencies of the gateway's routes: the runtime's supervisor, the
channels' gateway and its cache of agent lookups, the code sandbox. Only gateway modules (channels, lifecycle
routes) use them; domain routes take theirs from :mod:`agenthub.deps`. Each is an ``async
def``, as there (see :mod:`agenthub.deps`)."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends
from starlette.requests import HTTPConnection

from agenthub.agents.directory import AgentDirectory
from agenthub.channels.gateway import Gateway
from agenthub.runtime.supervisor import Supervisor
from agenthub.sandbox.service import SandboxService


async def _supervisor(connection: HTTPConnection) -> Supervisor:
    return connection.app.state.supervisor


async def _gateway(connection: HTTPConnection) -> Gateway:
    return connection.app.state.gateway


async def _agent_directory(connection: HTTPConnection) -> AgentDirectory:
    return connection.app.state.agent_directory


async def _sandbox(connection: HTTPConnection) -> SandboxService:
    return connection.app.state.sandbox


SupervisorDep = Annotated[Supervisor, Depends(_supervisor)]
GatewayDep = Annotated[Gateway, Depends(_gateway)]
AgentDirectoryDep = Annotated[AgentDirectory, Depends(_agent_directory)]
"""The agent lookups this process keeps (:mod:`agenthub.agents.directory`): what changes or
deletes an agent tells it."""
SandboxDep = Annotated[SandboxService, Depends(_sandbox)]
"""The code sandbox this process started (:mod:`agenthub.sandbox.service`): ``await sandbox.run(code, ...)``."""
