"""Live events of a bot for its builders, over the bus's pub/sub (channel
:func:`agenthub.bus.keys.bot_events`), sent on by the WebSocket ``/ws/bots/{bot_id}/events``:

- ``{"type": "bot_changed", "bot_id", "change": "draft", "draft_revision", "by"}``: the
  draft was edited (a step, group, connection, request or the bot itself), and ``"change":
  "published", "version", "by"``: a version was published. ``by`` is who did it, as a
  version's ``published_by`` names them (a user's id, ``key:<id>`` for an API key), noted
  when the service finds the bot or part for its caller (:func:`note_editor`). Noted in the session
  (:func:`note_change`, from :func:`agenthub.scenarios.service.touch` and ``publish``) and
  published once its transaction commits, by a session factory the app made with
  :func:`with_live_events`; a rolled-back edit says nothing.
- ``{"type": "message", "bot_id", "direction": "in" | "out", "chat_id", "text", ...}``: the
  bot received or sent a message (published by the scenario engine, :func:`message_events`).

Publishing is best effort: a bus that is away loses the event, never the edit or the turn.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from sqlalchemy import event
from sqlalchemy.orm import Session, object_session

from agenthub.bus import Bus, keys
from agenthub.db.engine import SessionFactory

log = logging.getLogger(__name__)

BUS = "agenthub.live_bus"
"""Where a session's info holds the bus its bots' changes are published on."""
CHANGES = "agenthub.bot_changes"
"""Where a session's info holds the changes noted in its transaction, by bot id."""
EDITOR = "agenthub.bot_editor"
"""Where a session's info holds who edits bots in it (the ``by`` of its changes)."""
_tasks: set[asyncio.Task[None]] = set()


def with_live_events(factory: SessionFactory, bus: Bus) -> SessionFactory:
    """``factory``, whose sessions publish the changes of bots on ``bus`` once they commit."""
    factory.configure(info={BUS: bus})
    return factory


def note_editor(session: Any, editor: str | None) -> None:
    """Note who acts in ``session`` (a Session or AsyncSession): its changes say ``by`` them."""
    session.info[EDITOR] = editor


def note_change(target: Any, change: dict[str, Any]) -> None:
    """Note a change of the bot ``target`` (a Bot row in a session) for after the commit;
    the last change of a kind wins."""
    session = object_session(target)
    if session is None or BUS not in session.info:
        return
    changes: dict[tuple[str, str], dict[str, Any]] = session.info.setdefault(CHANGES, {})
    by = {"by": session.info[EDITOR]} if session.info.get(EDITOR) else {}
    changes[(target.id, change["change"])] = {"type": "bot_changed", "bot_id": target.id, **change, **by}


@event.listens_for(Session, "after_commit")
def _committed(session: Session) -> None:
    changes = session.info.pop(CHANGES, None)
    bus = session.info.get(BUS)
    if not changes or bus is None:
        return
    try:
        loop = asyncio.get_running_loop()
    except RuntimeError:
        return
    task = loop.create_task(publish(bus, list(changes.values())))
    _tasks.add(task)
    task.add_done_callback(_tasks.discard)


@event.listens_for(Session, "after_rollback")
def _rolled_back(session: Session) -> None:
    session.info.pop(CHANGES, None)


async def publish(bus: Bus, events: list[dict[str, Any]]) -> None:
    """Publish each event on its bot's channel, in order, in one round trip; a failure is
    logged, not raised."""
    if not events:
        return
    batch = bus.batch()
    for payload in events:
        batch.publish(keys.bot_events(payload["bot_id"]), payload)
    try:
        await batch.execute()
    except Exception as error:  # noqa: BLE001 - live events are best effort
        log.warning("a bot's live events were not published: %s", type(error).__name__,
                    extra={"bot_id": events[0]["bot_id"]})


def message_events(
    bot_id: str, envelope: dict[str, Any], sent: list[dict[str, Any]], *, test: bool
) -> list[dict[str, Any]]:
    """The ``message`` events of one turn: the message received, then each one sent."""
    about = {"type": "message", "bot_id": bot_id, "chat_id": envelope.get("chat_id"),
             "channel": envelope.get("channel") or "web", "test": test}
    received = {**about, "direction": "in", "message_id": envelope.get("message_id"),
                "text": envelope.get("text") or "", "button": envelope.get("button")}
    out = [
        {**about, "direction": "out", "reply_to": envelope.get("message_id"), "text": str(m.get("text") or ""),
         **{k: m[k] for k in ("widget", "attachments") if m.get(k)}}
        for m in sent
    ]
    return [received, *out]
