"""The engine of ``scenario`` agents (scenario bots): each message moves the sender's
session through the bot's steps (:mod:`agenthub.scenarios.engine`), its writes in one
transaction (:mod:`agenthub.scenarios.sessions`), and what the steps entered send is the answer: every
message but the last goes before it (``Answer.messages``), each its own ``message`` event.

The bot's published document is compiled once per version and held in the hosted agent's
``engine_state``; each message reads the bot's row with its session, in one statement (its
``bot.*`` variables), which says whether a newer version was published: then it is loaded again. No tokens are counted
for scenario turns (an ``llm`` group's agent counts its own).
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from agenthub.bus import keys
from agenthub.config import Settings
from agenthub.credentials.secret_box import CredentialBox, load_box
from agenthub.db.engine import SessionFactory
from agenthub.engines.base import Answer, Engine, HostedAgent, Turn, TurnEvents
from agenthub.errors import NotFound
from agenthub.outbound.guard import OutboundGuard
from agenthub.scenarios import live
from agenthub.scenarios.actions.base import ActionCall, ActionDeps
from agenthub.scenarios.actions.registry import run_action
from agenthub.scenarios.document import BotDocument, GroupDoc
from agenthub.scenarios.engine import ActionRunner
from agenthub.scenarios.sessions import BotCache, DraftLoader, process
from agenthub.scenarios.variables import Scopes

log = logging.getLogger(__name__)

BOT = "scenario_bot"
"""Where a hosted scenario agent keeps its compiled bot (``engine_state``)."""
TEST_FLAG = "test"
"""An envelope with ``"test": true`` (put on the bus by the bot's test chat, never by a
client: the gateway writes the envelope) runs the bot's draft in a test session."""


POOL_SHARE = 0.75
"""Of the database pool's connections, what scenario turns of one process hold at most at
once (each holds one for its whole transaction, actions included): the rest stays for the
history, the API and the other kinds."""


def _share_of_pool(sessions: SessionFactory) -> int:
    bind = sessions.kw.get("bind")
    pool = getattr(bind, "pool", None)
    size = pool.size() if pool is not None and hasattr(pool, "size") else 20
    return max(1, int(size * POOL_SHARE))


class ScenarioEngine(Engine):
    kind = "scenario"

    def __init__(
        self, *, session_factory: SessionFactory, deps: ActionDeps, max_steps: int, draft: DraftLoader | None = None,
    ) -> None:
        self._sessions = session_factory
        self._slots = asyncio.Semaphore(_share_of_pool(session_factory))
        self._deps = deps
        self._max_steps = max_steps
        self._draft = draft

    @classmethod
    def from_settings(
        cls, settings: Settings, session_factory: SessionFactory,
        *, box: CredentialBox | None = None, draft: DraftLoader | None = None, deps: ActionDeps | None = None,
    ) -> ScenarioEngine:
        deps = deps or ActionDeps(
            settings=settings, sessions=session_factory, guard=OutboundGuard.from_settings(settings),
            box=box if box is not None else load_box(settings),
        )
        return cls(
            session_factory=session_factory, deps=deps, max_steps=settings.scenario_max_steps, draft=draft,
        )

    async def answer(self, turn: Turn, events: TurnEvents) -> Answer:
        agent = turn.agent
        cache = agent.engine_state.get(BOT)
        if not isinstance(cache, BotCache):
            cache = agent.engine_state[BOT] = BotCache()
        envelope = {**turn.message, "message_id": turn.message_id, "chat_id": turn.chat_id}
        test = turn.message.get(TEST_FLAG) is True
        async with self._slots:
            processed = await process(
                self._sessions, bot_id=agent.id, envelope=envelope, cache=cache, actions=self._actions(agent),
                max_steps=self._max_steps, draft=self._draft, test=test,
            )
        if processed.replayed:
            log.info("scenario message handled before: its messages are sent again",
                     extra={"agent_id": agent.id, "chat_id": turn.chat_id})
        messages = processed.messages
        broadcasts = None if processed.replayed else [  # for the bot's builders, delivered with the answer
            (keys.bot_events(agent.id), event) for event in live.message_events(agent.id, envelope, messages, test=test)
        ]
        if not messages:
            return Answer(text="", broadcasts=broadcasts)
        *earlier, last = messages
        return Answer(
            text=str(last.get("text") or ""),
            widget=last.get("widget"),
            attachments=last.get("attachments"),
            messages=earlier or None,
            broadcasts=broadcasts,
        )

    def describe_failure(self, error: BaseException, agent: HostedAgent) -> str | None:
        if isinstance(error, NotFound):  # no bot, or nothing published: say so
            return f"The bot can't answer: {error.message}."
        return None

    def _actions(self, agent: HostedAgent) -> Any:
        deps = self._deps

        def for_session(document: BotDocument, envelope: dict[str, Any]) -> ActionRunner:
            async def run(group: GroupDoc, scopes: Scopes) -> dict[str, Any]:
                call = ActionCall(
                    org_id=agent.org_id, bot_id=agent.id, document=document, group=group, scopes=scopes,
                    message=envelope,
                )
                try:
                    return await run_action(call, deps)
                except Exception as error:  # noqa: BLE001 - an action never crashes a session
                    log.warning("scenario action failed: %s", type(error).__name__, extra={"agent_id": agent.id})
                    return {"error": f"the {group.search_type} action failed ({type(error).__name__})"}
            return run

        return for_session
