"""Who is asking: the one request context every route and service takes.

A :class:`Caller` is resolved once per request or WebSocket (``agenthub.deps``) from its
credentials (``Authorization: Bearer`` with an access token or an API key; the WebSocket
also takes ``?token=``) by the :class:`Authenticator` the app was built with. Every query
is scoped by ``caller.org_id``. A route that anybody may reach (a public agent's chat)
takes an optional caller: None is an anonymous visitor.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from starlette.requests import HTTPConnection

from agenthub.errors import Unauthorized

DEFAULT_ORG = "default"
ROLE_RANK = {"member": 1, "admin": 2, "owner": 3}
"""Roles in an organisation, each allowed what the ones below it are."""


@dataclass(frozen=True, slots=True)
class Caller:
    org_id: str
    user_id: str | None = None
    api_key_id: str | None = None
    role: str = "member"
    """The user's role; an API key acts as a ``member`` of its organisation."""
    agent_ids: frozenset[str] | None = None
    """The only agents an API key may reach; None: every agent of the organisation."""

    def at_least(self, role: str) -> bool:
        """True when the caller's role is ``role`` or above (``member`` < ``admin`` < ``owner``)."""
        return ROLE_RANK.get(self.role, 0) >= ROLE_RANK[role]

    def may_reach(self, agent_id: str) -> bool:
        return self.agent_ids is None or agent_id in self.agent_ids

    @property
    def is_user(self) -> bool:
        return self.user_id is not None and self.api_key_id is None

    @property
    def subject(self) -> str:
        """Who this is, for rate limits and logs: ``user:<id>`` or ``key:<id>``."""
        return f"key:{self.api_key_id}" if self.api_key_id else f"user:{self.user_id}"


class Authenticator(Protocol):
    """Turns a request's credentials into a caller (built by the app, see
    ``agenthub.accounts.authenticate``)."""

    async def caller(self, connection: HTTPConnection) -> Caller | None:
        """The caller, or None when the request carries no credentials at all; raises
        ``Unauthorized`` for credentials that are not valid (expired, forged, revoked)."""
        ...


_RESOLVED = "agenthub.caller"
"""Where a request's resolved caller is kept in its scope's state (see :func:`resolve_caller`)."""


async def resolve_caller(connection: HTTPConnection, authenticator: Authenticator) -> Caller | None:
    """The request's caller, resolved once: the rate limits resolve it before the route, the
    route's dependencies find it done. Credentials that are not valid raise ``Unauthorized``
    every time they are asked about; any other failure (the database away) is not kept."""
    state = connection.scope.setdefault("state", {})
    if _RESOLVED not in state:
        try:
            state[_RESOLVED] = await authenticator.caller(connection)
        except Unauthorized as refused:
            state[_RESOLVED] = refused
    resolved = state[_RESOLVED]
    if isinstance(resolved, Unauthorized):
        raise Unauthorized(resolved.message)
    return resolved


def client_address(connection: HTTPConnection) -> str | None:
    """The client's address as the server sees it (behind a proxy: the proxy's, unless the
    server is told to trust ``X-Forwarded-For``)."""
    return connection.client.host if connection.client else None


def bearer_token(connection: HTTPConnection) -> str | None:
    """The credentials a request carries: ``Authorization: Bearer <token>``, or, on a
    WebSocket (whose browser API can't set headers), the ``token`` query parameter."""
    header = connection.headers.get("authorization")
    if header:
        scheme, _, value = header.partition(" ")
        if scheme.lower() == "bearer" and value.strip():
            return value.strip()
        raise Unauthorized("the Authorization header must be 'Bearer <access token or API key>'")
    if connection.scope["type"] == "websocket":
        token = connection.query_params.get("token")
        if token:
            return token
    return None
