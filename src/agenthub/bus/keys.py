"""Every bus key and channel name, in one place.

The braces are literal: ``agent:{42}:input`` keeps every key of one agent in one Redis
Cluster hash slot.
"""

from __future__ import annotations

INPUT_GROUP = "agenthub"
"""Consumer group on every ``agent:{id}:input`` stream."""

INPUT_CONSUMER = "owner"
"""One consumer name for every input stream: exactly one host owns an agent at a time, so
whichever host owns it next finds the previous owner's unacknowledged messages as its own."""

HISTORY_QUEUE = "history_queue"
TOKEN_USAGE_QUEUE = "token_usage_queue"
QUEUE_GROUP = "workers"

OUTBOUND_QUEUE = "outbound_queue"
"""Durable stream of every outbound event a client must not miss (final messages, errors;
proactive messages later), with the seed outbound fields ``message_id``, ``reply_to``,
``chat_id``, ``response``, ``channel``, ``type`` plus ``agent_id``. Live chunks stay on
pub/sub (``agent:{id}:output``). Each channel reads it with a consumer group of its own."""

OUTBOUND_CONSUMER = "reader"
"""Consumer name of a gateway's outbound group: each gateway has a group of its own."""


def channel_outbound_group(channel: str) -> str:
    """The consumer group of a channel's delivery workers (Telegram, e-mail) on
    :data:`OUTBOUND_QUEUE`: however many replicas run, each event is delivered by one."""
    return f"channel:{channel}"


def outbound_shown(channel: str, message_id: str) -> str:
    """Marker that a channel delivered an outbound event: a redelivered entry is not
    shown twice."""
    return f"outbound_shown:{channel}:{message_id}"


def gateway_outbound_group(gateway_id: str) -> str:
    """A gateway's consumer group on :data:`OUTBOUND_QUEUE`: every gateway reads every
    entry (a reconnecting WebSocket may land on any of them)."""
    return f"{GATEWAY_OUTBOUND_GROUP_PREFIX}{gateway_id}"


GATEWAY_OUTBOUND_GROUP_PREFIX = "gateway:"


def gateway_alive(gateway_id: str) -> str:
    """Present while a gateway runs (renewed as it reads): a gateway's outbound group whose
    gateway has none is abandoned (it was killed) and is removed by the next one to start."""
    return f"gateway_alive:{{{gateway_id}}}"


def agent_input(agent_id: str) -> str:
    return f"agent:{{{agent_id}}}:input"


def agent_output(agent_id: str) -> str:
    return f"agent:{{{agent_id}}}:output"


def agent_status(agent_id: str) -> str:
    return f"agent_status:{{{agent_id}}}"


def agent_lease(agent_id: str) -> str:
    return f"agent_lease:{{{agent_id}}}"


def turn_stop(agent_id: str, message_id: str) -> str:
    """Set when someone asked to stop the answer to a message: the host writing it stops and
    delivers what it has so far (``runtime.turns``)."""
    return f"agent:{{{agent_id}}}:stop:{message_id}"


def agent_reply(agent_id: str, message_id: str) -> str:
    """Marker that a message has been answered; holds the reply for redelivery."""
    return f"agent:{{{agent_id}}}:reply:{message_id}"


def agent_input_added(agent_id: str, message_id: str) -> str:
    """Marker that a message was put on the agent's input: a retried write adds it once."""
    return f"agent:{{{agent_id}}}:added:{message_id}"


def integration_status(agent_id: str, integration_type: str) -> str:
    return f"integration_status:{{{agent_id}}}:{integration_type}"


def telegram_bot_lease(token_fingerprint: str) -> str:
    """Held (with a TTL, renewed) by the process running the Telegram bot whose token has
    this fingerprint: one bot token, one running integration."""
    return f"telegram_bot_lease:{{{token_fingerprint}}}"


def telegram_updates(agent_id: str) -> str:
    """Stream of the updates Telegram posted to any replica's webhook route for the agent's
    bot, read (consumer group :data:`TELEGRAM_UPDATES_GROUP`) where the bot runs: a stream,
    so updates posted while its process restarts wait for it."""
    return f"telegram:{{{agent_id}}}:updates"


TELEGRAM_UPDATES_GROUP = "bot"

AGENT_START_REQUESTS = "agent_start_requests"
"""Agents to start, asked by processes with no supervisor of their own (a Telegram bot's
process, which hands its users' messages to the agent): the serve processes read it in
one consumer group (:data:`AGENT_START_GROUP`) and start each agent that is not running."""
AGENT_START_GROUP = "supervisors"


def bot_events(bot_id: str) -> str:
    """Pub/sub channel of a scenario bot's live events for its builders (changes, messages)."""
    return f"bot:{{{bot_id}}}:events"


def group_chat_events(group_chat_id: str) -> str:
    """Pub/sub channel of a group chat's live events (new, reviewed, removed messages)."""
    return f"group_chat:{{{group_chat_id}}}:events"


def host_heartbeat(host_id: str) -> str:
    return f"host:{{{host_id}}}:heartbeat"


def host_control(host_id: str) -> str:
    """Stream of commands (host / release an agent) for one host."""
    return f"host:{{{host_id}}}:control"


def host_wake(host_id: str, reader: int) -> str:
    return f"host:{{{host_id}}}:wake:{reader}"


WORKERS_SET = "workers"
"""Key holding the ids of live ``agenthub worker`` hosts (each also has a heartbeat)."""


STORAGE_QUEUES = (HISTORY_QUEUE, TOKEN_USAGE_QUEUE)
"""The queues the workers store into the database; each has a dead-letter stream."""


def dead_letters(queue: str) -> str:
    """Stream of the entries of ``queue`` that kept failing, each with its error."""
    return f"dead_letters:{queue}"


RATE_LIMITS = "rate_limits"
"""Prefix (after ``REDIS_KEY_PREFIX``) of the rate limits' counters: the ``limits`` library
names each ``rate_limits:{LIMITER/user:<id>/600/1/minute}``, braces included, so both
windows of one counter share a Cluster hash slot."""


SCENARIO_ASKS = "scenario:asks"
"""Questions of scenario bots' LLM steps hosted in runners and workers, for a gateway to ask
(``agenthub.channels.scenario_ask.AskRelay``); read by the gateways' one consumer group."""
SCENARIO_ASKS_GROUP = "gateways"


def scenario_answer(ask_id: str) -> str:
    """Pub/sub channel of the answer to one relayed question."""
    return f"scenario:answer:{ask_id}"
