"""What the queues API answers."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from pydantic import BaseModel

from agenthub.workers.dead_letters import DeadLetter


class DeadLetterRead(BaseModel):
    id: str
    queue: str
    entry_id: str
    error: str
    deliveries: int
    failed_at: datetime
    payload: dict[str, Any]

    @classmethod
    def of(cls, letter: DeadLetter) -> DeadLetterRead:
        return cls(
            id=letter.id,
            queue=letter.queue,
            entry_id=letter.entry_id,
            error=letter.error,
            deliveries=letter.deliveries,
            failed_at=datetime.fromtimestamp(letter.failed_at, UTC),
            payload=letter.payload,
        )


class QueueDeadLetters(BaseModel):
    queue: str
    count: int
    items: list[DeadLetterRead]


class DeadLettersRead(BaseModel):
    queues: list[QueueDeadLetters]


class DeadLettersRetried(BaseModel):
    retried: dict[str, int]
