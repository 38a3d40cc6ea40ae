"""What authentication and the budget check add to each turn: the gateway's own calls, timed
in one process, against a scratch SQLite database (or ``--database-url``) and the spend
counters in the process or in Redis.

For each setup: the access token checked (``AccountsAuthenticator.caller_for``, as every
request does), the budgets of its user and organisation checked (``BudgetGuard.check``, as
every turn does), and both, p50 and p99 in microseconds over ``--calls`` calls, after a
warm-up. The user has a budget of their own and the organisation one too, with spend on
both, so the check reads two counters (one round trip to Redis).

    .venv/bin/python bench/budget_check.py [--calls 20000] [--redis-url redis://127.0.0.1:6379/0]
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import Awaitable, Callable
from datetime import timedelta
from decimal import Decimal
from pathlib import Path

from agenthub.access.budgets import BudgetGuard, Payer
from agenthub.accounts import service as accounts_service
from agenthub.accounts.authenticate import AccountsAuthenticator
from agenthub.accounts.tokens import TokenIssuer
from agenthub.billing.counters import MemorySpendCounters, SpendCounters
from agenthub.billing.models import Budget, TokenUsageLog
from agenthub.billing.redis_counters import RedisSpendCounters
from agenthub.caller import DEFAULT_ORG
from agenthub.db import migrate
from agenthub.db.base import utcnow
from agenthub.db.engine import SessionFactory, create_engine, create_session_factory, session_scope

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _harness import machine  # noqa: E402


async def _account(sessions: SessionFactory, issuer: TokenIssuer) -> tuple[str, str]:
    """A user of the default organisation with budgets and spend: (user id, access token)."""
    async with session_scope(sessions) as session:
        user = await accounts_service.create_user(
            session, org_id=DEFAULT_ORG, email=f"bench-{uuid.uuid4().hex[:8]}@example.com",
            password="bench-password-1", role="owner",
        )
        tokens = await accounts_service.open_session(
            session, user=user, issuer=issuer, refresh_lifetime=timedelta(days=1)
        )
        session.add(_budget("user", user.id))
        session.add(TokenUsageLog(
            message_id=uuid.uuid4().hex, org_id=DEFAULT_ORG, agent_id="a", chat_id="c", user_id=user.id,
            provider="openai", model="gpt-4o-mini", input_tokens=1000, output_tokens=500,
            cost=Decimal("0.00045"), created_at=utcnow(),
        ))
        return user.id, tokens.access_token


def _budget(scope: str, subject_id: str) -> Budget:
    return Budget(org_id=DEFAULT_ORG, scope=scope, subject_id=subject_id, max_budget=Decimal(1000),
                  budget_duration="1mo", period_started_at=utcnow())


async def _timed(call: Callable[[], Awaitable[object]], calls: int) -> tuple[float, float]:
    for _ in range(min(1000, calls)):
        await call()
    samples = []
    for _ in range(calls):
        start = time.perf_counter()
        await call()
        samples.append(time.perf_counter() - start)
    samples.sort()
    return statistics.median(samples) * 1e6, samples[int(len(samples) * 0.99)] * 1e6


async def _setup(name: str, sessions: SessionFactory, counters: SpendCounters, calls: int) -> None:
    issuer = TokenIssuer("bench-signing-key-" + "x" * 32, lifetime_seconds=3600)
    authenticator = AccountsAuthenticator(sessions=sessions, issuer=issuer)
    guard = BudgetGuard(sessions=sessions, counters=counters)
    user_id, token = await _account(sessions, issuer)
    payer = Payer(DEFAULT_ORG, user_id)

    async def both() -> None:
        caller = await authenticator.caller_for(token)
        await guard.check(Payer(caller.org_id, caller.user_id, caller.api_key_id))

    for what, call in (
        ("authentication", lambda: authenticator.caller_for(token)),
        ("budget check", lambda: guard.check(payer)),
        ("both", both),
    ):
        p50, p99 = await _timed(call, calls)
        print(f"| {name} | {what} | {p50:.0f} µs | {p99:.0f} µs |")


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=20_000)
    parser.add_argument("--database-url", default=None, help="default: SQLite in a scratch directory")
    parser.add_argument("--redis-url", default="redis://127.0.0.1:6379/0")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as scratch:
        url = args.database_url or f"sqlite+aiosqlite:///{scratch}/bench.db"
        engine = create_engine(url)
        await migrate.upgrade(engine)
        sessions = create_session_factory(engine)
        async with session_scope(sessions) as session:
            session.add(_budget("org", DEFAULT_ORG))
        print(f"Machine: {machine()}; {args.calls} calls each\n")
        print("| counters | what | p50 | p99 |\n|---|---|---|---|")
        await _setup("in the process", sessions, MemorySpendCounters(), args.calls)
        redis = RedisSpendCounters.from_url(args.redis_url, prefix=f"bench:{uuid.uuid4().hex[:8]}:")
        try:
            await _setup("Redis", sessions, redis, args.calls)
        except OSError as error:
            print(f"| Redis | skipped: {error} | | |")
        finally:
            await redis.close()
        await engine.dispose()


if __name__ == "__main__":
    asyncio.run(main())
