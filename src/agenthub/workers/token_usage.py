"""Token usage: ``token_usage_queue`` -> usage logs (tokens, provider, model, and the cost
where that provider charges a known price for the model) and the daily aggregates, in one
transaction; then the cost is added to the spend counters the budget check reads."""

from __future__ import annotations

import logging
from collections.abc import Sequence

from agenthub.access.budgets import spent_by
from agenthub.billing import service as billing_service
from agenthub.billing.counters import SpendCounters
from agenthub.bus import Bus, Entry, keys
from agenthub.db.engine import SessionFactory, session_scope
from agenthub.llm.pricing import PriceTable
from agenthub.workers.base import DEFAULT_MAX_DELIVERIES, QueueWorker

log = logging.getLogger(__name__)


class TokenUsageWorker(QueueWorker):
    name = "token-usage"
    stream = keys.TOKEN_USAGE_QUEUE

    def __init__(
        self,
        bus: Bus,
        session_factory: SessionFactory,
        *,
        max_deliveries: int = DEFAULT_MAX_DELIVERIES,
        prices: PriceTable | None = None,
        counters: SpendCounters | None = None,
    ) -> None:
        """``prices``: the shipped ones unless given; ``counters``: the spend counters to
        add to (None: none are kept)."""
        super().__init__(bus, max_deliveries=max_deliveries)
        self._sessions = session_factory
        self._prices = prices or PriceTable()
        self._counters = counters

    async def process(self, entries: Sequence[Entry]) -> None:
        async with session_scope(self._sessions) as session:
            stored = await billing_service.record_usage(
                session, [entry.payload for entry in entries], prices=self._prices
            )
        if self._counters is None:
            return
        # Stored (and committed): counted once, as a redelivered entry is not stored again.
        # A failure here is not the entries': the counters are rebuilt from the logs.
        try:
            await self._counters.record(spent_by(stored))
        except Exception as error:  # noqa: BLE001 - logged; the counter expires and is rebuilt
            log.warning("spend counters not updated: %s", type(error).__name__, extra={"worker": self.name})
