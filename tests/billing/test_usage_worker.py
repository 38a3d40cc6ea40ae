"""The usage worker: each turn's log row and its day's aggregate in one transaction, counted
once however often its entry is delivered; its cost added to the spend counters of whoever
paid for it (user, API key, organisation), on both buses and databases."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from agenthub.billing.counters import MemorySpendCounters, SpendCounters
from agenthub.billing.models import DailyUsage, TokenUsageLog
from agenthub.billing.redis_counters import RedisSpendCounters
from agenthub.bus import Bus, keys, open_bus
from agenthub.db.base import utcnow
from agenthub.db.engine import SessionFactory
from agenthub.llm.pricing import PriceTable
from agenthub.workers.token_usage import TokenUsageWorker
from tests.runtime.helpers import migrated_sessions


@pytest.fixture
async def sessions(database_url: str) -> AsyncIterator[SessionFactory]:
    engine, factory = await migrated_sessions(database_url)
    yield factory
    await engine.dispose()


@pytest.fixture(params=["memory", "redis"])
async def bus_and_counters(request: pytest.FixtureRequest) -> AsyncIterator[tuple[Bus, SpendCounters]]:
    if request.param == "memory":
        bus, counters = open_bus(None), MemorySpendCounters()
    else:
        url, prefix = request.getfixturevalue("redis_server_url"), request.getfixturevalue("redis_prefix")
        bus, counters = open_bus(url, prefix=prefix), RedisSpendCounters.from_url(url, prefix=prefix)
    yield bus, counters
    await counters.close()
    await bus.close()


def usage(model: str = "gpt-4o-mini", input_tokens: int = 1000, output_tokens: int = 500, **who: Any) -> dict[str, Any]:
    return {
        "message_id": uuid.uuid4().hex, "org_id": "acme", "agent_id": who.pop("agent_id", "a1"), "chat_id": "c1",
        "provider": who.pop("provider", "openai"), "model": model, "input_tokens": input_tokens,
        "output_tokens": output_tokens, **who,
    }


async def drain(worker: TokenUsageWorker) -> int:
    total = 0
    while processed := await worker.run_once():
        total += processed
    return total


async def test_logs_and_daily_aggregates_are_stored_together_once(
    sessions: SessionFactory, bus_and_counters: tuple[Bus, SpendCounters]
) -> None:
    bus, counters = bus_and_counters
    worker = TokenUsageWorker(bus, sessions, counters=counters)
    await worker.setup()
    ann = usage(user_id="usr_ann")
    entries = [
        ann, ann,  # the same turn queued twice counts once
        usage(user_id="usr_ann", input_tokens=2000, output_tokens=0),
        usage(user_id="usr_ann", agent_id="a2", model="gpt-4o", input_tokens=100, output_tokens=10),
        usage(user_id="telegram:42", api_key_id=None),
        usage(api_key_id="key_1"),  # an API key's turn: nobody in particular
        usage(user_id="usr_ann", provider="ollama", model="llama3"),  # no known price: 0 in the aggregates
    ]
    for entry in entries:
        await bus.add(keys.TOKEN_USAGE_QUEUE, entry)
    assert await drain(worker) == len(entries)

    async with sessions() as session:
        logs = list(await session.scalars(select(TokenUsageLog)))
        days = {(d.user_id, d.agent_id, d.model): d for d in await session.scalars(select(DailyUsage))}
    assert len(logs) == 6
    assert {log.message_id: (log.user_id, log.api_key_id) for log in logs}[entries[-2]["message_id"]] == (
        None, "key_1"
    )
    ann_mini = days["usr_ann", "a1", "gpt-4o-mini"]
    assert (ann_mini.turns, ann_mini.input_tokens, ann_mini.output_tokens) == (2, 3000, 500)
    assert Decimal(str(ann_mini.cost)) == Decimal("0.00075")  # 0.00045 + 0.0003
    assert ann_mini.day == utcnow().date() and ann_mini.org_id == "acme"
    assert Decimal(str(days["usr_ann", "a2", "gpt-4o"].cost)) == Decimal("0.00035")
    assert days["usr_ann", "a1", "llama3"].turns == 1 and Decimal(str(days["usr_ann", "a1", "llama3"].cost)) == 0
    assert days["telegram:42", "a1", "gpt-4o-mini"].turns == 1
    assert days["", "a1", "gpt-4o-mini"].turns == 1  # the key's turn

    # The same entries delivered again (a worker died before acknowledging): nothing added.
    for entry in entries:
        await bus.add(keys.TOKEN_USAGE_QUEUE, entry)
    assert await drain(worker) == len(entries)
    async with sessions() as session:
        assert sum(d.turns for d in await session.scalars(select(DailyUsage))) == 6


async def test_costs_are_added_to_the_open_counters_of_whoever_paid(
    sessions: SessionFactory, bus_and_counters: tuple[Bus, SpendCounters]
) -> None:
    bus, counters = bus_and_counters
    worker = TokenUsageWorker(bus, sessions, counters=counters)
    await worker.setup()
    since = 0  # periods that began long ago
    for subject in ("user:acme:usr_ann", "org:acme:acme", "api_key:acme:key_1"):
        assert await counters.open(subject, since, ttl=60)
    turn = usage(user_id="usr_ann")
    await bus.add(keys.TOKEN_USAGE_QUEUE, turn)
    await bus.add(keys.TOKEN_USAGE_QUEUE, usage(api_key_id="key_1", input_tokens=0, output_tokens=1000))
    await bus.add(keys.TOKEN_USAGE_QUEUE, usage(user_id="usr_ann", provider="ollama", model="llama3"))
    await drain(worker)
    await bus.add(keys.TOKEN_USAGE_QUEUE, turn)  # redelivered: not counted again
    await drain(worker)
    spent = await counters.read([("user:acme:usr_ann", since), ("org:acme:acme", since), ("api_key:acme:key_1", since)])
    assert spent == [45_000, 105_000, 60_000]  # in 10⁻⁸ USD


async def test_the_operators_prices_are_what_is_charged(
    sessions: SessionFactory, bus_and_counters: tuple[Bus, SpendCounters], tmp_path: Path
) -> None:
    bus, counters = bus_and_counters
    prices = tmp_path / "prices.toml"
    prices.write_text('["openai_compatible:house-model"]\ninput = 1\noutput = "2.5"\n')
    worker = TokenUsageWorker(bus, sessions, prices=PriceTable.load(prices), counters=counters)
    await worker.setup()
    await bus.add(keys.TOKEN_USAGE_QUEUE, usage("house-model", 1_000_000, 1_000_000, provider="openai_compatible"))
    await drain(worker)
    async with sessions() as session:
        assert [Decimal(str(log.cost)) for log in await session.scalars(select(TokenUsageLog))] == [Decimal("3.5")]
