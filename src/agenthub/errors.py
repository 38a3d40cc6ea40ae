"""The exception tree. Everything AgentHub raises on purpose derives from AgentHubError;
every error a client can see maps to one HTTP status here.

AgentHubError                  500  internal
├── InvalidInput               422  invalid_input
├── Unauthorized               401  unauthorized (no, or no valid, credentials)
├── Forbidden                  403  forbidden
├── BudgetExceeded             402  budget_exceeded
├── RateLimited                429  rate_limited (with Retry-After)
├── NotFound                   404  not_found
├── Conflict                   409  conflict   (id_retained: a deleted agent's id, kept)
│   └── AgentFailed            409  agent_failed
├── ServiceUnavailable         503  unavailable
│   ├── DatabaseNotMigrated    503  database_not_migrated
│   └── NotSubscribed          503  unavailable (also a ConnectionError)
├── ModelFailed                500  model_failed
│   └── MissingProviderKey         (llm/factory.py) a provider's own service called without its key
├── MissingGroup               500  missing_group (also a LookupError: no such consumer group)
├── ConfigurationError             (config.py; also a ValueError) a setting that can't work
└── StartupError                   (startup.py) a reason not to start, with an exit code

Elsewhere: request bodies refused before they are parsed (json_input.py) are also
HTTPExceptions, which FastAPI lets through its body parsing; pydantic validators raise
ValueError, as pydantic asks, and pydantic turns it into a 422.
"""

from __future__ import annotations


class AgentHubError(Exception):
    status_code = 500
    code = "internal"

    def __init__(self, message: str, *, code: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        if code is not None:
            self.code = code


class InvalidInput(AgentHubError):
    """Input that can't be taken; ``field`` names where (``settings.temperature``), as the
    ``details`` of a validation error do, and ``problem`` what is wrong there, without the
    field's name (the message itself unless given)."""

    status_code = 422
    code = "invalid_input"

    def __init__(
        self, message: str, *, field: str = "body", code: str | None = None, problem: str | None = None
    ) -> None:
        super().__init__(message, code=code)
        self.field = field
        self.problem = problem or message


class Unauthorized(AgentHubError):
    """No credentials, or none that are valid now (expired, forged, revoked)."""

    status_code = 401
    code = "unauthorized"


class Forbidden(AgentHubError):
    """Known caller, not allowed: a role too low, an agent that is not theirs to reach."""

    status_code = 403
    code = "forbidden"


class BudgetExceeded(AgentHubError):
    """A budget is spent: the turn is refused before the model is called."""

    status_code = 402
    code = "budget_exceeded"


class RateLimited(AgentHubError):
    """Too many requests; ``retry_after`` is how many seconds to wait."""

    status_code = 429
    code = "rate_limited"

    def __init__(self, message: str, *, retry_after: int) -> None:
        super().__init__(message)
        self.retry_after = max(1, retry_after)


class NotFound(AgentHubError):
    status_code = 404
    code = "not_found"


class Conflict(AgentHubError):
    status_code = 409
    code = "conflict"


class AgentFailed(Conflict):
    """The agent gave up after its restarts ('error'): a message does not start it again
    until it is started, or until its cool-down (``AGENT_ERROR_COOLDOWN``) has passed."""

    code = "agent_failed"


class ServiceUnavailable(AgentHubError):
    status_code = 503
    code = "unavailable"


class DatabaseNotMigrated(ServiceUnavailable):
    code = "database_not_migrated"


class NotSubscribed(ServiceUnavailable, ConnectionError):
    """Output can't be followed: the subscription could not be made (the bus is away)."""


class ModelFailed(AgentHubError):
    code = "model_failed"


class MissingGroup(AgentHubError, LookupError):
    """A read from a consumer group that does not exist (yet, or any more)."""

    code = "missing_group"


def plain_problem(message: str) -> str:
    """A pydantic error message without the prefix pydantic gives a validator's own words
    (``Value error, ...``)."""
    return message.removeprefix("Value error, ").removeprefix("Assertion failed, ")


UNAVAILABLE_SQLSTATES = ("08", "57P01", "57P02", "57P03", "53300")
"""PostgreSQL's codes for a server that can't serve now: connection exceptions (class 08:
"connection was closed in the middle of operation", refused, lost), shutting down (admin or
crash), starting up or shutting down ("cannot connect now"), too many connections."""


def is_unavailable(error: BaseException) -> bool:
    """True for the errors of a database or bus that can't be reached, or can't serve now:
    shutting down, starting up, a connection lost mid-statement (503, not 500). Looks
    through the chain of causes, as drivers' errors come wrapped by SQLAlchemy."""
    from redis.exceptions import ConnectionError as RedisConnectionError
    from redis.exceptions import TimeoutError as RedisTimeoutError
    from sqlalchemy.exc import DBAPIError, InterfaceError, OperationalError

    unreachable = (RedisConnectionError, RedisTimeoutError, OperationalError, InterfaceError, ConnectionError)
    seen: set[int] = set()
    current: BaseException | None = error
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        if isinstance(current, unreachable):
            return True
        if isinstance(current, DBAPIError) and current.connection_invalidated:
            return True
        sqlstate = getattr(current, "sqlstate", None) or getattr(current, "pgcode", None)
        if isinstance(sqlstate, str) and sqlstate.startswith(UNAVAILABLE_SQLSTATES):
            return True
        current = getattr(current, "orig", None) or current.__cause__
    return False


def field_path(loc: tuple[int | str, ...] | list[int | str], *, skip: tuple[str, ...] = ()) -> str:
    """A validation error's location as clients read it (``settings.http_tools.0.url``):
    without the tags of unions (parts starting with ``~``) and the names of parts in ``skip``."""
    return ".".join(str(part) for part in loc if not (isinstance(part, str) and (part.startswith("~") or part in skip)))
