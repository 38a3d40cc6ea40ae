"""What an engine is: one inbound message in, the events of its answer out.

The host gives an engine a :class:`Turn` and the :class:`TurnEvents` to send live events
to (streamed text, and events of its own such as tool calls); the engine returns the
:class:`Answer`. Everything else (history, usage, reply markers, acknowledgements, errors
shown to the user) is the host's delivery, the same for every kind.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections import OrderedDict
from dataclasses import dataclass, field
from typing import Any, ClassVar, Protocol

MAX_CHATS_PER_AGENT = 256


@dataclass
class HostedAgent:
    """An agent as a host holds it: its config, and what its engine keeps of each recent
    chat (the ``llm`` engine: the conversation), so a turn need not read it again."""

    id: str
    org_id: str
    kind: str
    settings: dict[str, Any]
    config_version: int
    chats: OrderedDict[str, Any] = field(default_factory=OrderedDict)
    last_touch: float = 0.0
    engine_state: dict[str, Any] = field(default_factory=dict)
    """What its engine keeps of the agent while it is hosted here (the ``llm`` engine: the
    model built with the key of the agent's credential); a new hosting starts empty."""

    def remember(self, chat_id: str, state: Any) -> None:
        """Keep ``state`` for ``chat_id``; the chats used longest ago are forgotten beyond
        :data:`MAX_CHATS_PER_AGENT`."""
        self.chats[chat_id] = state
        self.chats.move_to_end(chat_id)
        while len(self.chats) > MAX_CHATS_PER_AGENT:
            self.chats.popitem(last=False)


@dataclass(frozen=True, slots=True)
class Turn:
    """One inbound message to answer."""

    agent: HostedAgent
    message_id: str
    chat_id: str
    text: str
    position: int
    """The message's place in its chat's history; 0 when unknown (put on the bus by hand)."""
    message: dict[str, Any]
    """The whole inbound envelope (``user_data``, ``channel``, ``platform_user_id``...)."""


@dataclass(frozen=True, slots=True)
class Usage:
    """What answering cost, for billing."""

    provider: str
    model: str
    input_tokens: int = 0
    output_tokens: int = 0


@dataclass(frozen=True, slots=True)
class Answer:
    """The final message of a turn (and any sent before it: ``messages``). ``usage``: what it cost, None for engines that use no
    model (tokens are billed when there are any)."""

    text: str
    usage: Usage | None = None
    tool_calls: list[dict[str, Any]] | None = None
    """The tools called on the way to the answer: ``[{"name", "arguments", "result"}]``."""
    citations: list[dict[str, Any]] | None = None
    """The documents the answer cites (``rag`` agents)."""
    widget: dict[str, Any] | None = None
    """What the client shows with the answer: ``{"buttons": [{"text", "value"}]}`` (scenario bots)."""
    attachments: list[str] | None = None
    """File ids sent with the answer."""
    messages: list[dict[str, Any]] | None = None
    """Messages sent before this one, in order (``{"text", "widget"?, "attachments"?}``): each
    reaches the client as its own ``message`` event marked ``"more": true``, this answer last."""
    stopped: bool = False
    """The answer was stopped on request before it was complete: ``text`` is what had streamed."""
    broadcasts: list[tuple[str, dict[str, Any]]] | None = None
    """Events for listeners other than the chat's (a scenario bot's builders), as
    ``(channel, event)``: published with the answer, in the round trip that delivers it."""


class TurnEvents(Protocol):
    """Where an engine sends the live events of an answer, in order."""

    def text(self, piece: str) -> None:
        """The next piece of the answer's text, as it streams (never blocks)."""

    async def emit(self, event: dict[str, Any]) -> None:
        """An event of another type (``{"type": "tool_call", ...}``), shown live after the
        text sent before it; the host adds ``reply_to`` and ``chat_id``."""


class Engine(ABC):
    """Answers the turns of the agents of one kind."""

    kind: ClassVar[str]

    def check(self, agent: HostedAgent) -> None:  # noqa: B027 - most engines take any agent of their kind
        """Refuse (raise) an agent this engine can't run, before a host takes it on."""

    @abstractmethod
    async def answer(self, turn: Turn, events: TurnEvents) -> Answer:
        """Answer ``turn``: stream its text and other events to ``events``, return the
        final answer. Any exception becomes an error event to the user."""

    def describe_failure(self, error: BaseException, agent: HostedAgent) -> str | None:
        """What the user is told of a failure this engine knows better than the shared
        delivery does (a model server that can't be reached, named by its host); None for
        the general description. Never a secret or a stack trace."""
        return None
