"""Who is using the panel, for the length of one request, and the organisation filter every
view's queries carry.

The operator is kept in a context variable: SQLAdmin builds some statements (the row an edit
changes, the row a delete removes) without the request, and each must still be limited to
the operator's organisation. :class:`OperatorScope` clears it at the start of every request
and restores it at the end, so nothing carries over from one request to the next; with no
operator, every filter matches no row."""

from __future__ import annotations

from contextvars import ContextVar
from dataclasses import dataclass

from sqlalchemy import ColumnElement, false
from starlette.types import ASGIApp, Receive, Scope, Send

from agenthub.caller import Caller


@dataclass(frozen=True, slots=True)
class Operator:
    """An owner or admin of an organisation, signed in to the panel."""

    user_id: str
    org_id: str
    role: str

    @property
    def caller(self) -> Caller:
        """The operator as the audit log names who made a change."""
        return Caller(org_id=self.org_id, user_id=self.user_id, role=self.role)


_operator: ContextVar[Operator | None] = ContextVar("agenthub_admin_operator", default=None)


def current_operator() -> Operator | None:
    return _operator.get()


def set_operator(operator: Operator | None) -> None:
    _operator.set(operator)


def org_filter(condition: ColumnElement[bool] | None) -> ColumnElement[bool]:
    """``condition`` (built for the current operator's organisation), or no row at all."""
    return false() if condition is None else condition


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
