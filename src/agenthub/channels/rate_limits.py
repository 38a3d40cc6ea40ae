"""Rate limits: ``RATE_LIMIT_PER_MINUTE`` requests a minute per user and per API key,
``RATE_LIMIT_ANONYMOUS_PER_MINUTE`` per client address for requests without valid
credentials (public routes such as log-in and register included: brute-force protection).

Counted by the ``limits`` library with its sliding-window counter, in Redis when
``REDIS_URL`` is set (every gateway shares the counts; keys under ``REDIS_KEY_PREFIX``) or in
this process (embedded). The entry point builds a :class:`RateLimiter` and hands it to
:class:`RateLimits`, the middleware every HTTP request and WebSocket handshake passes after
its caller is resolved; each message of a WebSocket counts as a request of its caller too
(:mod:`agenthub.channels.websocket` asks :meth:`RateLimiter.check`). Over the limit: 429
``rate_limited`` with ``Retry-After`` (an ``error`` event on a WebSocket, which stays open).
``/health`` is never limited, nor are Telegram's posts to an agent's webhook that carry the
bot's secret (``X-Telegram-Bot-Api-Secret-Token``): they come, often in bursts, from the few
addresses Telegram posts from, with no login; a missing or wrong secret counts as anonymous
(guessing it stays limited). When Redis can't be reached the request goes through (a
warning is logged): an outage of the counter does not become an outage of the API.
"""

from __future__ import annotations

import logging
import math
import re
import time

import redis.asyncio as aioredis
from limits import RateLimitItem, RateLimitItemPerMinute
from limits.aio.storage import MemoryStorage, RedisStorage, Storage
from limits.aio.strategies import SlidingWindowCounterRateLimiter
from starlette.requests import HTTPConnection
from starlette.responses import JSONResponse
from starlette.types import ASGIApp, Receive, Scope, Send

from agenthub.bus import keys
from agenthub.caller import Caller, client_address, resolve_caller
from agenthub.channels.origins import refuse
from agenthub.channels.paths import route_path
from agenthub.channels.telegram.config import SECRET_HEADER
from agenthub.channels.telegram.webhook_check import accepted
from agenthub.config import Settings
from agenthub.errors import RateLimited, is_unavailable
from agenthub.ops.errors import error_body

log = logging.getLogger(__name__)

UNLIMITED_PATHS = frozenset({"/health", "/"})
UNLIMITED_PREFIXES = ("/console/", "/admin/statics/")
"""The web console's page and assets and the admin panel's: static files, a page load asks for
a score of them."""
TELEGRAM_WEBHOOK = re.compile(r"/api/v1/agents/(?P<agent_id>[^/]+)/integrations/telegram/webhook")
WARN_EVERY = 60.0
"""Seconds between two warnings that the counter's storage can't be reached."""


def _unlimited(path: str) -> bool:
    return path in UNLIMITED_PATHS or path.startswith(UNLIMITED_PREFIXES)


class RateLimiter:
    """Counts requests per caller (``user:<id>``, ``key:<id>``) or, without one, per client
    address (``address:<ip>``); a limit of 0 is no limit."""

    def __init__(
        self, storage: Storage, *, per_minute: int, anonymous_per_minute: int,
        pool: aioredis.ConnectionPool | None = None,
    ) -> None:
        self._limiter = SlidingWindowCounterRateLimiter(storage)
        self._per_caller = RateLimitItemPerMinute(per_minute) if per_minute else None
        self._per_address = RateLimitItemPerMinute(anonymous_per_minute) if anonymous_per_minute else None
        self._pool = pool
        self._warned_at = -math.inf

    @classmethod
    def from_settings(cls, settings: Settings) -> RateLimiter:
        """In Redis when ``REDIS_URL`` is set, else in this process. Opens no connection yet."""
        per_minute, anonymous = settings.rate_limit_per_minute, settings.rate_limit_anonymous_per_minute
        if settings.redis_url is None:
            return cls(MemoryStorage(), per_minute=per_minute, anonymous_per_minute=anonymous)
        pool = aioredis.ConnectionPool.from_url(settings.redis_url, max_connections=200, health_check_interval=30)
        storage = RedisStorage(
            "async+redis://", implementation="redispy",
            connection_pool=pool,  # type: ignore[arg-type] # taken, though its annotation says otherwise
            key_prefix=f"{settings.redis_key_prefix}{keys.RATE_LIMITS}",
        )
        return cls(storage, per_minute=per_minute, anonymous_per_minute=anonymous, pool=pool)

    async def check(self, caller: Caller | None, address: str | None) -> None:
        """Count one request; ``RateLimited`` (with the seconds to wait) when it is one too many."""
        item = self._per_caller if caller is not None else self._per_address
        if item is None:
            return
        subject = caller.subject if caller is not None else f"address:{address or 'unknown'}"
        try:
            if await self._limiter.hit(item, subject):
                return
            stats = await self._limiter.get_window_stats(item, subject)
        except Exception as error:
            if not is_unavailable(error):
                raise
            self._warn(error)
            return
        wait = max(1, math.ceil(stats.reset_time - time.time()))
        raise RateLimited(_refusal(item, anonymous=caller is None, wait=wait), retry_after=wait)

    def _warn(self, error: Exception) -> None:
        now = time.monotonic()
        if now - self._warned_at >= WARN_EVERY:
            self._warned_at = now
            log.warning("rate limits are not counted: their storage is unreachable (%s)", type(error).__name__)

    async def close(self) -> None:
        if self._pool is not None:
            await self._pool.aclose()


def _refusal(item: RateLimitItem, *, anonymous: bool, wait: int) -> str:
    who = "from this address without credentials" if anonymous else "for this caller"
    return f"too many requests: at most {item.amount} a minute {who}; try again in {wait} s"


class RateLimits:
    """The middleware: resolves the caller (kept for the route, see
    :func:`agenthub.caller.resolve_caller`) and counts the request against its limit.
    Credentials that are not valid count as none: by address, and the route says 401."""

    def __init__(self, app: ASGIApp, *, limiter: RateLimiter) -> None:
        self.app = app
        self._limiter = limiter

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in ("http", "websocket") or _unlimited(route_path(scope)) or await _from_telegram(scope):
            await self.app(scope, receive, send)
            return
        connection = HTTPConnection(scope)
        try:
            caller = await resolve_caller(connection, scope["app"].state.authenticator)
        except Exception:  # noqa: BLE001 - not valid, or the database away: the route answers why
            caller = None
        try:
            await self._limiter.check(caller, client_address(connection))
        except RateLimited as refused:
            response = JSONResponse(
                error_body(refused.code, refused.message), status_code=429,
                headers={"Retry-After": str(refused.retry_after)},
            )
            await refuse(scope, receive, send, response, close_code=1013)
            return
        await self.app(scope, receive, send)


async def _from_telegram(scope: Scope) -> bool:
    """A post to an agent's Telegram webhook with the secret its bot, running in webhook
    mode in any process, registered (:meth:`~agenthub.channels.telegram.service.TelegramIntegrations.webhook_accepts`)."""
    if scope["type"] != "http" or scope.get("method") != "POST":
        return False
    matched = TELEGRAM_WEBHOOK.fullmatch(route_path(scope))
    if matched is None:
        return False
    integrations = getattr(scope["app"].state, "telegram", None)
    secret = HTTPConnection(scope).headers.get(SECRET_HEADER)
    if integrations is None or not secret:
        return False
    try:
        return await accepted(scope, integrations, matched["agent_id"], secret)
    except Exception:  # noqa: BLE001 - the bus away: counted as any request, and the route says why
        return False
