"""Who is asking: the one request context every route and service takes.

A :class:`Caller` is resolved once per request or WebSocket (``agenthub.deps.CallerDep``)
from its credentials. Until accounts arrive every caller is the default organisation's,
with every scope; queries are already scoped by ``caller.org_id``, so accounts fill the
caller in without touching routes.
"""

from __future__ import annotations

from dataclasses import dataclass, field

DEFAULT_ORG = "default"
EVERY_SCOPE = "*"


@dataclass(frozen=True, slots=True)
class Caller:
    org_id: str
    user_id: str | None = None
    api_key_id: str | None = None
    scopes: frozenset[str] = field(default_factory=frozenset)

    def can(self, scope: str) -> bool:
        return EVERY_SCOPE in self.scopes or scope in self.scopes


def default_caller() -> Caller:
    """The caller of a deployment without accounts: the default organisation, every scope."""
    return Caller(org_id=DEFAULT_ORG, scopes=frozenset({EVERY_SCOPE}))
