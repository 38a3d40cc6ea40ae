"""Output fan-out inside one gateway process.

Every socket and SSE stream of an agent shares one bus subscription to
``agent:{id}:output``; each event goes only to the listener that expects an answer to its
``reply_to``. Without this, N open sockets would mean N Redis connections and every event
copied N times. The subscription outlives its last listener by :data:`FEED_LINGER`
seconds: an SSE request listens for one answer only, and subscribing anew for each (a new
Redis connection, its handshake and ``SUBSCRIBE``) would cost every message round trips.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import AsyncIterator

from agenthub.bus import Bus, Payload, Subscription, keys
from agenthub.chats.service import PUSH_PREFIX
from agenthub.errors import NotSubscribed
from agenthub.runtime.tasks import stop_tasks

log = logging.getLogger(__name__)


class Listener:
    """The answers to the messages one client is waiting for."""

    def __init__(self, router: OutputRouter, agent_id: str) -> None:
        self._router = router
        self.agent_id = agent_id
        self.expected: dict[str, float] = {}
        """The messages waited for, and since when (wall clock, as stop announcements say)."""
        self.chats: dict[str, str] = {}
        """The chat of each message waited for: what the gateway tells about it names it."""
        self.queue: asyncio.Queue[Payload] = asyncio.Queue()
        self.closed = False
        self.watching: str | None = None
        """The chat whose pushed answers (no client's message: see :data:`PUSH_PREFIX`) it receives."""

        self.watching_prefix: str | None = None
        """Or the chats whose id starts with this (a Telegram bot's: ``telegram-``)."""

    def watch(self, chat_id: str) -> None:
        """Receive the answers to messages pushed into ``chat_id`` (a scenario bot's delayed
        or periodic messages) as well."""
        self.watching = chat_id

    def watch_prefix(self, prefix: str) -> None:
        """Receive the answers to messages pushed into any chat whose id starts with ``prefix``."""
        self.watching_prefix = prefix

    def watches(self, chat_id: object) -> bool:
        if not isinstance(chat_id, str):
            return False
        return chat_id == self.watching or (
            self.watching_prefix is not None and chat_id.startswith(self.watching_prefix)
        )

    def expect(self, message_id: str, chat_id: str) -> None:
        """Receive the events answering ``message_id`` of ``chat_id``; call before the
        message is sent."""
        self.expected[message_id] = time.time()
        self.chats[message_id] = chat_id
        self._router._route(self.agent_id, message_id, self)

    def answered(self, message_id: str) -> None:
        self.expected.pop(message_id, None)
        self.chats.pop(message_id, None)
        self._router._unroute(self.agent_id, message_id, self)

    async def get(self, timeout: float | None = None) -> Payload | None:
        """The next event; None when none came within ``timeout`` seconds."""
        if not self.queue.empty():  # no timer for what is there already (chunks come in bursts)
            return self.queue.get_nowait()
        try:
            async with asyncio.timeout(timeout):
                return await self.queue.get()
        except TimeoutError:
            return None

    async def __aiter__(self) -> AsyncIterator[Payload]:
        while not self.closed:
            yield await self.queue.get()

    async def close(self) -> None:
        if not self.closed:
            self.closed = True
            await self._router._release(self)


RESUBSCRIBE_AFTER = 0.5
FEED_LINGER = 5.0
"""Seconds an agent's output subscription is kept after its last listener closed, for the
next request to the same agent; then it is closed (one Redis connection fewer)."""


class _Broken(Subscription):
    """Stands in for a subscription that could not be made; fails at once when read."""

    async def __aiter__(self) -> AsyncIterator[Payload]:  # type: ignore[override]
        raise NotSubscribed("not subscribed")
        yield {}  # pragma: no cover - makes this an async generator

    async def get(self, timeout: float | None = None) -> Payload | None:
        raise NotSubscribed("not subscribed")

    async def close(self) -> None:
        return None


class _Feed:
    def __init__(self, subscription: Subscription) -> None:
        self.subscription = subscription
        self.listeners: set[Listener] = set()
        self.routes: dict[str, Listener] = {}
        self.task: asyncio.Task[None] | None = None
        self.expiry: asyncio.TimerHandle | None = None
        """Set while the feed has no listener: when it is closed unless one comes."""


class OutputRouter:
    def __init__(self, bus: Bus, *, linger: float = FEED_LINGER) -> None:
        self._bus = bus
        self._linger = linger
        self._feeds: dict[str, _Feed] = {}
        self._lock = asyncio.Lock()
        self._expiring: set[asyncio.Task[None]] = set()

    async def listen(self, agent_id: str) -> Listener:
        async with self._lock:
            feed = self._feeds.get(agent_id)
            if feed is None:
                subscription = await self._bus.subscribe(keys.agent_output(agent_id))
                feed = self._feeds[agent_id] = _Feed(subscription)
                feed.task = asyncio.create_task(self._pump(feed, agent_id), name=f"output-{agent_id}")
            elif feed.expiry is not None:
                feed.expiry.cancel()
                feed.expiry = None
            listener = Listener(self, agent_id)
            feed.listeners.add(listener)
            return listener

    async def _pump(self, feed: _Feed, agent_id: str) -> None:
        """Route events until cancelled; when the bus connection breaks, subscribe again
        (what was published in the gap is lost, as pub/sub is; answers stay in the history)."""
        while True:
            try:
                async for event in feed.subscription:
                    if event.get("type") == "stopped":
                        _tell_stopped(feed, event)
                        continue
                    if event.get("type") == "restarting":
                        _tell_restarting(feed, before=float(event.get("at") or 0))
                        continue
                    _route_event(feed, event)
            except asyncio.CancelledError:
                raise
            except Exception as error:  # noqa: BLE001 - keep the feed alive through outages
                log.warning("output subscription lost: %s", type(error).__name__, extra={"agent_id": agent_id})
            await asyncio.sleep(RESUBSCRIBE_AFTER)
            with contextlib.suppress(Exception):
                await feed.subscription.close()
            try:
                feed.subscription = await self._bus.subscribe(keys.agent_output(agent_id))
            except Exception:  # noqa: BLE001 - still down; the loop tries again
                feed.subscription = _Broken()

    def deliver(self, agent_id: str, event: Payload) -> None:
        """Hand an event that came another way (the durable outbound stream) to the listener
        waiting for its answer, if any; a listener drops a second copy of a final event."""
        feed = self._feeds.get(agent_id)
        if feed is None:
            return
        _route_event(feed, event)

    def _route(self, agent_id: str, message_id: str, listener: Listener) -> None:
        self._feeds[agent_id].routes[message_id] = listener

    def _unroute(self, agent_id: str, message_id: str, listener: Listener) -> None:
        feed = self._feeds.get(agent_id)
        if feed is not None and feed.routes.get(message_id) is listener:
            del feed.routes[message_id]

    async def _release(self, listener: Listener) -> None:
        async with self._lock:
            feed = self._feeds.get(listener.agent_id)
            if feed is None:
                return
            feed.listeners.discard(listener)
            for message_id in listener.expected:
                if feed.routes.get(message_id) is listener:
                    del feed.routes[message_id]
            if not feed.listeners:
                if feed.expiry is not None:
                    feed.expiry.cancel()
                feed.expiry = asyncio.get_running_loop().call_later(
                    self._linger, self._expire_soon, listener.agent_id, feed
                )

    def _expire_soon(self, agent_id: str, feed: _Feed) -> None:
        task = asyncio.create_task(self._expire(agent_id, feed), name=f"output-{agent_id}-expiry")
        self._expiring.add(task)
        task.add_done_callback(self._expiring.discard)

    async def _expire(self, agent_id: str, feed: _Feed) -> None:
        """Close a feed that stayed without a listener for the linger period."""
        async with self._lock:
            if feed.listeners or self._feeds.get(agent_id) is not feed:
                return
            del self._feeds[agent_id]
        await _stop(feed)

    async def close(self) -> None:
        async with self._lock:
            feeds, self._feeds = list(self._feeds.values()), {}
        await stop_tasks(list(self._expiring))
        for feed in feeds:
            await _stop(feed)


def _route_event(feed: _Feed, event: Payload) -> None:
    """To the listener waiting for the answer; a pushed message's answer to every listener
    watching its chat."""
    reply_to = str(event.get("reply_to"))
    listener = feed.routes.get(reply_to)
    if listener is not None:
        listener.queue.put_nowait(event)
    elif reply_to.startswith(PUSH_PREFIX):
        chat_id = event.get("chat_id")
        for watcher in feed.listeners:
            if watcher.watches(chat_id):
                watcher.queue.put_nowait(event)


STOPPED_MESSAGE = (
    "The agent was stopped before it answered; the message is kept and is answered when the agent runs again."
)
DELETED_MESSAGE = "The agent was deleted before it answered; the message will not be answered."
FAILED_MESSAGE = (
    "The agent kept failing and was stopped after its restarts (its status says why); the message is kept and "
    "is answered when the agent is started again."
)
RESTARTING_MESSAGE = "The agent stopped unexpectedly and is restarting; your message is kept and will be answered."


def _tell_stopped(feed: _Feed, event: Payload) -> None:
    """The agent stopped (was deleted, failed for good): each message that was waiting for
    its answer when the stop began gets an error now. One sent since then started the agent
    again, or will."""
    if event.get("deleted"):
        message, code = DELETED_MESSAGE, "agent_deleted"
    elif event.get("failed"):
        message, code = FAILED_MESSAGE, "agent_failed"
    else:
        message, code = STOPPED_MESSAGE, "agent_stopped"
    before = float(event.get("at") or 0)
    for message_id, listener in list(feed.routes.items()):
        if listener.expected.get(message_id, 0.0) <= before:
            listener.queue.put_nowait({
                "type": "error", "reply_to": message_id, "chat_id": listener.chats.get(message_id),
                "code": code, "response": message,
            })


def _tell_restarting(feed: _Feed, *, before: float) -> None:
    """The agent's host died and a new one is on its way: each message waiting for an
    answer gets a status now rather than silence until the successor answers it."""
    for message_id, listener in list(feed.routes.items()):
        if listener.expected.get(message_id, 0.0) <= before:
            listener.queue.put_nowait({
                "type": "status", "reply_to": message_id, "chat_id": listener.chats.get(message_id),
                "message": RESTARTING_MESSAGE,
            })


async def _stop(feed: _Feed) -> None:
    if feed.expiry is not None:
        feed.expiry.cancel()
    await stop_tasks([feed.task])
    with contextlib.suppress(Exception):
        await feed.subscription.close()

