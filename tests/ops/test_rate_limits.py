"""Rate limits, as a client meets them: per user and per API key, per client address without
credentials (log-in attempts included), over HTTP and per WebSocket message; 429 with
Retry-After; one caller's limit never touches another's. On both backends: the in-process
counter and Redis (shared by every gateway)."""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from typing import Any

import httpx
import pytest
import redis.asyncio as aioredis
from limits.aio.storage import RedisStorage
from websockets.exceptions import InvalidStatus

from agenthub.caller import Caller
from agenthub.channels.rate_limits import LEASE_SHARE, RateLimiter
from agenthub.config import Settings
from agenthub.errors import RateLimited
from tests.agents.helpers import assert_error
from tests.channels.helpers import create_agent, receive_until_final, send, turn
from tests.support.accounts import api_key, bearer, second_org, user_token
from tests.support.server import OWNER_PASSWORD, free_port, make_settings, running_app
from tests.support.ws import connect

Limited = Callable[..., Settings]


@pytest.fixture(params=["memory", "redis"])
def limited(request: pytest.FixtureRequest, sqlite_url: str) -> Limited:
    """Settings with the given limits, counted in this process or in Redis."""
    on_redis: dict[str, Any] = {}
    if request.param == "redis":
        on_redis = {
            "redis_url": request.getfixturevalue("redis_server_url"),
            "redis_prefix": request.getfixturevalue("redis_prefix"),
        }

    def settings(**limits: int) -> Settings:
        return make_settings(database_url=sqlite_url, **on_redis, **limits)

    return settings


def assert_limited(response: httpx.Response) -> int:
    """The 429 JSON error with its Retry-After, in whole seconds within the minute."""
    assert_error(response, 429, "rate_limited")
    wait = int(response.headers["Retry-After"])
    assert 1 <= wait <= 60
    return wait


async def test_each_user_and_each_key_has_a_limit_of_its_own(limited: Limited) -> None:
    async with running_app(limited(rate_limit_per_minute=3, rate_limit_anonymous_per_minute=100)) as app:
        async with httpx.AsyncClient(base_url=app.url, timeout=20) as client:
            member = await user_token(app, "member@example.com")
            key = await api_key(app)
            other = await second_org(app)
            for _ in range(3):
                assert (await client.get("/api/v1/agents", headers=app.headers)).status_code == 200
            assert_limited(await client.get("/api/v1/agents", headers=app.headers))
            assert_limited(await client.post("/api/v1/agents", headers=app.headers, json={"name": "x"}))

            # The owner's limit is the owner's: a member of the same organisation, a key of
            # it and another organisation's owner all still have theirs, from the same address.
            for credentials in (member, key, other):
                for _ in range(3):
                    response = await client.get("/api/v1/agents", headers=bearer(credentials))
                    assert response.status_code == 200, response.text
                assert_limited(await client.get("/api/v1/agents", headers=bearer(credentials)))

            for _ in range(10):  # /health is never limited
                assert (await client.get("/health")).status_code == 200


async def test_without_credentials_the_client_address_is_limited(limited: Limited) -> None:
    async with running_app(limited(rate_limit_per_minute=100, rate_limit_anonymous_per_minute=3)) as app:
        # running_app logged the owner in: one request without credentials from this address.
        async with httpx.AsyncClient(base_url=app.url, timeout=20) as client:
            wrong = {"email": "owner@example.com", "password": "not-" + OWNER_PASSWORD}
            for _ in range(2):
                assert_error(await client.post("/api/v1/auth/login", json=wrong), 401)
            # Guessing passwords stops here, the right one included.
            assert_limited(await client.post("/api/v1/auth/login", json=wrong))
            right = {"email": "owner@example.com", "password": OWNER_PASSWORD}
            assert_limited(await client.post("/api/v1/auth/login", json=right))
            # Credentials that are not valid are no credentials: guessing keys stops too.
            assert_limited(await client.get("/api/v1/agents", headers=bearer("ahk_guessed")))
            assert_limited(await client.get("/api/v1/agents", headers=bearer("not.a.token")))

            # A logged-in caller from the same address is counted as itself.
            assert (await client.get("/api/v1/agents", headers=app.headers)).status_code == 200
            assert (await client.get("/health")).status_code == 200


async def test_each_websocket_message_counts_and_the_socket_stays_open(limited: Limited) -> None:
    async with running_app(limited(rate_limit_per_minute=3, rate_limit_anonymous_per_minute=100)) as app:
        async with httpx.AsyncClient(base_url=app.url, timeout=20, headers=app.headers) as client:
            agent_id = await create_agent(client)  # the owner's first request
            member = await user_token(app, "member@example.com")

        async with connect(app.ws(f"/ws/agents/{agent_id}")) as socket:  # the second
            assert (await turn(socket, "one"))[-1]["type"] == "message"  # the third
            for content in ("two", "three"):
                await send(socket, content)
                refused = json.loads(await socket.recv())
                assert refused["type"] == "error" and refused["code"] == "rate_limited", refused
                assert 1 <= refused["retry_after"] <= 60
                assert "a minute" in refused["message"]

            # Another user's socket is not touched by the owner's limit.
            url = f"{app.ws_url}/ws/agents/{agent_id}?token={member}"
            async with connect(url) as theirs:
                assert (await turn(theirs, "mine")).pop()["type"] == "message"

            # The owner's socket is still open: refused messages were not taken, and its
            # next one, over the limit as well, is refused the same way.
            await send(socket, "four")
            assert (await receive_until_final(socket))[-1]["code"] == "rate_limited"

        # Over the limit, a new socket is refused at its handshake.
        with pytest.raises(InvalidStatus) as refused_handshake:
            async with connect(app.ws(f"/ws/agents/{agent_id}")):
                pass
        assert refused_handshake.value.response.status_code == 429


async def test_gateways_on_one_redis_share_the_counts(
    sqlite_url: str, redis_server_url: str, redis_prefix: str
) -> None:
    settings = make_settings(
        database_url=sqlite_url, redis_url=redis_server_url, redis_prefix=redis_prefix,
        rate_limit_per_minute=4, rate_limit_anonymous_per_minute=100,
    )
    async with running_app(settings) as a, running_app(settings) as b:
        async with httpx.AsyncClient(timeout=20, headers=a.headers) as client:
            for app in (a, b, a, b):
                assert (await client.get(f"{app.url}/api/v1/agents")).status_code == 200
            assert_limited(await client.get(f"{a.url}/api/v1/agents"))
            assert_limited(await client.get(f"{b.url}/api/v1/agents"))

    redis = aioredis.Redis.from_url(redis_server_url)
    try:  # the counters live under REDIS_KEY_PREFIX, like every other key
        assert [key async for key in redis.scan_iter(match=f"{redis_prefix}rate_limits:*")]
    finally:
        await redis.aclose()


class CountedRedisStorage(RedisStorage):
    """Redis storage of the counts that also tallies the counts it is asked for."""

    counts = 0

    async def acquire_sliding_window_entry(self, *args: Any, **kwargs: Any) -> bool:
        self.counts += 1
        return await super().acquire_sliding_window_entry(*args, **kwargs)


async def test_a_busy_caller_is_counted_ahead_in_redis_and_still_gets_exactly_the_limit(
    redis_server_url: str, redis_prefix: str
) -> None:
    pool = aioredis.ConnectionPool.from_url(redis_server_url)
    storage = CountedRedisStorage("async+redis://", implementation="redispy", connection_pool=pool,
                                  key_prefix=f"{redis_prefix}rate_limits")
    limiter = RateLimiter(storage, per_minute=600, anonymous_per_minute=60, pool=pool)
    busy, other = Caller(org_id="default", user_id="usr_busy"), Caller(org_id="default", user_id="usr_other")
    try:
        for _ in range(600):
            await limiter.check(busy, "127.0.0.1")
        with pytest.raises(RateLimited) as refused:
            await limiter.check(busy, "127.0.0.1")
        assert refused.value.retry_after is not None and 1 <= refused.value.retry_after <= 60
        # Counted ahead, a tenth of the minute's 600 at most at once: far fewer round trips.
        assert storage.counts < 600 // 5 and 600 // LEASE_SHARE == 10
        storage.counts = 0
        await limiter.check(other, "127.0.0.1")  # another caller: counted on its own, from one
        assert storage.counts == 1
    finally:
        await pool.aclose()


async def test_a_steady_caller_keeps_its_pace_from_one_second_to_the_next(
    redis_server_url: str, redis_prefix: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Ten requests a second for five seconds: after the first second each second's count
    ahead is as many as the last second used, so Redis is asked about once a second, not
    again from one request (1, 2, 4, 8) every second; a caller back after a pause starts
    from one again."""
    clock = [1000.0]
    monkeypatch.setattr("agenthub.channels.rate_limits.time.monotonic", lambda: clock[0])
    pool = aioredis.ConnectionPool.from_url(redis_server_url)
    storage = CountedRedisStorage("async+redis://", implementation="redispy", connection_pool=pool,
                                  key_prefix=f"{redis_prefix}rate_limits")
    limiter = RateLimiter(storage, per_minute=600, anonymous_per_minute=60, pool=pool)
    steady = Caller(org_id="default", user_id="usr_steady")
    try:
        first_second = []
        for second in range(5):
            before = storage.counts
            for tenth in range(10):
                clock[0] = 1000.0 + second + tenth / 10
                await limiter.check(steady, "127.0.0.1")
            first_second.append(storage.counts - before)
        assert first_second[0] == 4, first_second  # 1 + 2 + 4 + 8 counted ahead
        assert all(counts <= 2 for counts in first_second[1:]), first_second
        clock[0] += 60  # a minute later: one request is counted alone
        before = storage.counts
        await limiter.check(steady, "127.0.0.1")
        assert storage.counts - before == 1
    finally:
        await pool.aclose()


async def test_an_unreachable_redis_lets_requests_through_with_a_warning(
    sqlite_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    settings = make_settings(
        database_url=sqlite_url, redis_url=f"redis://127.0.0.1:{free_port()}", rate_limit_per_minute=1
    )
    limiter = RateLimiter.from_settings(settings)
    try:
        with caplog.at_level(logging.WARNING, logger="agenthub.channels.rate_limits"):
            for _ in range(3):
                await limiter.check(Caller(org_id="default", user_id="usr_1"), "127.0.0.1")
        warnings = [r for r in caplog.records if "rate limits are not counted" in r.getMessage()]
        assert len(warnings) == 1  # once, not once per request
    finally:
        await limiter.close()


async def test_a_limit_of_zero_is_no_limit(sqlite_url: str) -> None:
    settings = make_settings(database_url=sqlite_url, rate_limit_per_minute=0, rate_limit_anonymous_per_minute=0)
    limiter = RateLimiter.from_settings(settings)
    for _ in range(100):
        await limiter.check(Caller(org_id="default", user_id="usr_1"), "127.0.0.1")
        await limiter.check(None, "127.0.0.1")


def test_the_defaults_are_600_per_caller_and_60_per_address() -> None:
    settings = Settings(_env_file=None)  # type: ignore[call-arg]
    assert (settings.rate_limit_per_minute, settings.rate_limit_anonymous_per_minute) == (600, 60)
