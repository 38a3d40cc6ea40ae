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

In Redis, a busy caller's requests are counted ahead, a few at a time: when a caller used up
what this gateway counted ahead for it within :data:`LEASE_SECONDS`, the next count takes
twice as many at once (up to 1/:data:`LEASE_SHARE` of the limit), and the requests
that follow within :data:`LEASE_SECONDS` pass without asking Redis; when that time runs
out, the next count takes as many as the caller used of the last (its pace). A caller sending one
request now and then is counted request by request, and so is every caller of a limit under
:data:`LEASE_SHARE` a minute. It is never looser than the limit, only stricter: requests
counted ahead and not made within :data:`LEASE_SECONDS` (a burst that stopped) stay
counted, at most 1/:data:`LEASE_SHARE` of the limit per gateway. Near the limit a
count that takes several at once is refused and the request is counted alone, so a caller
still gets exactly the limit.
"""

from __future__ import annotations

import logging
import math
import re
import time
from dataclasses import dataclass

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
LEASE_SECONDS = 1.0
"""How long requests counted ahead for a busy caller may be used by this gateway."""
LEASE_SHARE = 60
"""What part of a limit is counted ahead at most, at once (a limit of 600 a minute: 10)."""
LEASES_KEPT = 10_000
"""Callers whose counts ahead a gateway keeps; beyond, the expired ones are forgotten."""


@dataclass(slots=True)
class _Lease:
    """Requests counted ahead for one caller: ``left`` of ``size`` may pass until ``until``."""

    size: int
    left: int
    until: float


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
        self._leases: dict[str, _Lease] | None = {} if pool is not None else None
        """Counts ahead by caller, in Redis only (counting in this process costs no round trip)."""

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
        now = time.monotonic()
        lease = self._leases.get(subject) if self._leases is not None else None
        if lease is not None and lease.left > 0 and now < lease.until:
            lease.left -= 1
            return
        size = self._lease_size(item, lease, now)
        try:
            if await self._limiter.hit(item, subject, cost=size):
                self._keep(subject, _Lease(size, size - 1, now + LEASE_SECONDS))
                return
            if size > 1 and await self._limiter.hit(item, subject):  # near the limit: one at a time
                self._keep(subject, _Lease(1, 0, now + LEASE_SECONDS))
                return
            stats = await self._limiter.get_window_stats(item, subject)
        except Exception as error:
            if not is_unavailable(error):
                raise
            self._warn(error)
            return
        wait = max(1, math.ceil(stats.reset_time - time.time()))
        raise RateLimited(_refusal(item, anonymous=caller is None, wait=wait), retry_after=wait)

    def _lease_size(self, item: RateLimitItem, lease: _Lease | None, now: float) -> int:
        """How many requests to count now, at most 1/:data:`LEASE_SHARE` of the limit: twice
        the last count ahead when the caller used it all up in time (busy); as many as it
        used of it when it ran out just now (a steady caller keeps its pace, instead of
        starting again from one every :data:`LEASE_SECONDS`); else one."""
        if lease is None:
            return 1
        most = max(1, item.amount // LEASE_SHARE)
        if now < lease.until:
            return min(lease.size * 2, most) if lease.left == 0 else 1
        if now < lease.until + LEASE_SECONDS:
            return min(lease.size - lease.left, most)
        return 1

    def _keep(self, subject: str, lease: _Lease) -> None:
        leases = self._leases
        if leases is None:
            return
        if len(leases) >= LEASES_KEPT and subject not in leases:
            now = time.monotonic()
            for stale in [key for key, kept in leases.items() if kept.until <= now]:
                del leases[stale]
            if len(leases) >= LEASES_KEPT:
                return  # all busy: this caller is counted request by request meanwhile
        leases[subject] = lease

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
