"""Prometheus metrics, one registry per application (no global state)."""

from __future__ import annotations

from prometheus_client import (
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
)

LATENCY_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60)


class Metrics:
    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.messages = Counter(
            "agenthub_messages_total",
            "Messages through the gateway, by direction (in/out) and channel.",
            ["direction", "channel"],
            registry=self.registry,
        )
        self.turn_latency = Histogram(
            "agenthub_turn_latency_seconds",
            "Time from an accepted message to its complete answer, as the gateway sees it.",
            buckets=LATENCY_BUCKETS,
            registry=self.registry,
        )
        self.running_agents = Gauge(
            "agenthub_running_agents",
            "Agents this gateway's supervisor has running.",
            registry=self.registry,
        )
        self.restarts = Counter(
            "agenthub_agent_restarts_total",
            "Agent runners restarted after a crash or a stale heartbeat.",
            registry=self.registry,
        )

        self.dead_letters = Gauge(
            "agenthub_dead_letters",
            "Entries of a storage queue that kept failing and wait in its dead-letter stream.",
            ["queue"],
            registry=self.registry,
        )

    def render(self) -> bytes:
        return generate_latest(self.registry)
