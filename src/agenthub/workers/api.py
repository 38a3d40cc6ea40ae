"""The queues API: dead letters of the storage queues, listed and put back."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from agenthub.deps import BusDep, OperatorDep
from agenthub.ops.openapi import error_responses
from agenthub.workers.dead_letters import DeadLetters
from agenthub.workers.schemas import DeadLetterRead, DeadLettersRead, DeadLettersRetried, QueueDeadLetters

router = APIRouter(prefix="/api/v1/queues", tags=["queues"])
OPERATOR_ERRORS = error_responses(403, 404, meanings={403: "Not an operator of this install"})

QueueParam = Annotated[
    str | None, Query(description="One queue (history_queue or token_usage_queue); every queue when omitted")
]


# Dead letters are the platform's, not an organisation's (they hold any organisation's
# entries): only the install's operators see them.
@router.get("/dead-letters", response_model=DeadLettersRead, responses=OPERATOR_ERRORS)
async def list_dead_letters(
    bus: BusDep, caller: OperatorDep, queue: QueueParam = None, limit: Annotated[int, Query(ge=1, le=1000)] = 100
) -> DeadLettersRead:
    """Queue entries that kept failing, oldest first, each with its error."""
    dead_letters = DeadLetters(bus)
    counts = await dead_letters.counts()
    return DeadLettersRead(queues=[
        QueueDeadLetters(
            queue=name,
            count=counts[name],
            items=[DeadLetterRead.of(letter) for letter in await dead_letters.entries(name, limit=limit)],
        )
        for name in ([dead_letters.check(queue)] if queue else dead_letters.queues)
    ])


@router.post("/dead-letters/retry", response_model=DeadLettersRetried, responses=OPERATOR_ERRORS)
async def retry_dead_letters(bus: BusDep, caller: OperatorDep, queue: QueueParam = None) -> DeadLettersRetried:
    """Put dead letters back on their queue, to be stored again (once their cause is fixed)."""
    dead_letters = DeadLetters(bus)
    names = [dead_letters.check(queue)] if queue else list(dead_letters.queues)
    return DeadLettersRetried(retried={name: await dead_letters.retry(name) for name in names})
