"""Who is using the panel, for the length of one request (each view filters its rows by the
operator's organisation: :mod:`agenthub.admin_panel.base`).

The operator is kept in a context variable: SQLAdmin builds some statements (the row an edit
changes, the row a delete removes) without the request, and each must still be limited to
the operator's organisation. :class:`OperatorScope` clears it at the start of every request
and restores it at the end, so nothing carries over from one request to the next; with no
operator, every filter matches no row."""

from __future__ import annotations

from contextvars import ContextVar
from dataclasses import dataclass

from starlette.types import ASGIApp, Receive, Scope, Send


@dataclass(frozen=True, slots=True)
class Operator:
    """An owner or admin of an organisation, signed in to the panel."""

    user_id: str
    org_id: str
    role: str


_operator: ContextVar[Operator | None] = ContextVar("agenthub_admin_operator", default=None)


def current_operator() -> Operator | None:
    return _operator.get()


def set_operator(operator: Operator | None) -> None:
    _operator.set(operator)


class OperatorScope:
    """ASGI middleware: no operator at the start of a request, the one before it at its end."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        token = _operator.set(None)
        try:
            await self.app(scope, receive, send)
        finally:
            _operator.reset(token)
