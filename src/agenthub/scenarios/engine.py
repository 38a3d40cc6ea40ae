"""The step machine of scenario bots: one incoming message in, what the bot sends out.

Pure: no database, no bus, no clock; the only I/O is the group actions, through the
runner it is given. The host (``agenthub.engines.scenario``) loads and saves the session
around :func:`handle`.

Semantics (the README's "How a bot runs"):

- A new session starts at the bot's first step without sending its message; the first
  message is evaluated against that step's groups.
- The bot-level groups (the document's top-level ``connection_groups``: ``/start``,
  ``cancel``...) are tried first, once per incoming message, from any step.
- Then the current step's groups, in their order: a ``message`` group uses the message;
  the other kinds run their action first and map the group's ``variables`` (JSONPath over
  the action's result: ``{"session.temp": "$.json.main.temp"}``); a ``message`` group's
  ``variables`` map JSONPath over the message (``{"session.email": "$.text"}``).
- A group's connections are tried by descending priority (the document's order between
  equal ones); the first whose rules hold (:mod:`.rules`) and whose filters admit the message
  (``text``, ``button``, ``attachment``; none: all) takes it: to its ``next_step``, or, with
  none, the session stays where it is.
- Entering a step sends its message (substituted; a step with no text, buttons or
  attachments sends nothing). A proxy step is evaluated at once with
  the same message (its own groups only); any other step waits for the next message. A
  message no connection takes leaves the session where it is (nothing is counted).
- The funnel (:attr:`Outcome.events`): each step entered, and each step a session that had
  entered it moved on from (to another step or to itself again). A new session starts at
  the first step without entering it: moving from there is no move on, so no step ever
  shows more moves on than entries.
- At most ``max_steps`` moves per message (``SCENARIO_MAX_STEPS``): past them the bot
  stops where it is and tells the user; a log line says which bot and step.
- A session waiting in a step that a publish removed goes back to the first step (logged).
- Templates (:mod:`.frames`): entering a step that is a template instance sends its message,
  pushes a frame (the template's own ``session.*``: its variables and the instance's
  inputs) and enters the template's first step; the template's steps then run as the bot's
  do (a proxy step at once, another waits for the next message inside the template, where
  the session's step is ``<instance>/<step>``), and the bot-level groups still come first.
  A template step whose groups take no connection (a proxy step at once, a waiting step
  after the next message; a step with no connection at all as soon as it is entered) ends
  the template: its outputs are mapped into the caller's variables, the frame popped, and
  the instance step's own groups evaluated (it is a proxy). Template steps count for the
  loop guard and are recorded in the funnel as ``<instance>/<step>``.

The host schedules the emitters (``step.emitter``) of the steps in :attr:`Outcome.entered`;
when one is due, :func:`move` enters its step (so does a bot's cron).
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

import jsonpath

from agenthub.scenarios import rules
from agenthub.scenarios.document import BotDocument, ConnectionDoc, GroupDoc, StepDoc, TemplateDoc
from agenthub.scenarios.frames import instance_of, leave, pop, push, qualify
from agenthub.scenarios.variables import Scopes, substitute, substitute_text

log = logging.getLogger(__name__)

ActionRunner = Callable[[GroupDoc, Scopes], Awaitable[dict[str, Any]]]
"""Runs a group's action for the session whose scopes are given: its result, or ``{"error": ...}``."""
LOOP_MESSAGE = "The bot stopped: it took more than {limit} steps for one message (a loop in the bot?)."
ENTERED = "entered"
MOVED_ON = "moved_on"


@dataclass(frozen=True, slots=True)
class CompiledGroup:
    doc: GroupDoc
    connections: tuple[ConnectionDoc, ...]
    """By descending priority; equal ones in the document's order."""
    paths: tuple[tuple[str, Any], ...]
    """Each variable the group sets, with its compiled JSONPath (None: not a valid path)."""


Found = tuple[StepDoc, tuple[CompiledGroup, ...]]


@dataclass(frozen=True)
class CompiledTemplate:
    doc: TemplateDoc
    steps: dict[str, StepDoc]
    groups: dict[str, tuple[CompiledGroup, ...]]


@dataclass(frozen=True)
class CompiledBot:
    """A bot's document as the engine runs it: built once per version, held by the host."""

    document: BotDocument
    first_step: str
    steps: dict[str, StepDoc]
    groups: dict[str, tuple[CompiledGroup, ...]]
    bot_groups: tuple[CompiledGroup, ...]
    templates: dict[str, CompiledTemplate] = field(default_factory=dict)

    def template_of(self, instance: str) -> CompiledTemplate | None:
        """The template the step ``instance`` is an instance of (None: no such instance)."""
        step = self.steps.get(instance)
        if step is None or step.template is None:
            return None
        return self.templates.get(step.template.template)

    def find(self, key: str) -> Found | None:
        """The step a session's step names, with its groups: a step of the bot, or one of a
        template inside the instance step that qualifies it (``greeting/ask``)."""
        instance = instance_of(key)
        if instance is None:
            step = self.steps.get(key)
            return None if step is None else (step, self.groups[key])
        template = self.template_of(instance)
        inner = key[len(instance) + 1:]
        if template is None or inner not in template.steps:
            return None
        return template.steps[inner], template.groups[inner]


def _group(doc: GroupDoc) -> CompiledGroup:
    ordered = sorted(doc.connections, key=lambda c: -c.priority)  # sorted() is stable
    paths: list[tuple[str, Any]] = []
    for name, path in doc.variables.items():
        try:
            paths.append((name, jsonpath.compile(path)))
        except Exception:  # noqa: BLE001 - a bad path sets nothing; validated when edited
            paths.append((name, None))
    return CompiledGroup(doc, tuple(ordered), tuple(paths))


def _steps(steps: list[StepDoc]) -> tuple[dict[str, StepDoc], dict[str, tuple[CompiledGroup, ...]]]:
    return {step.key: step for step in steps}, {step.key: tuple(_group(g) for g in step.connection_groups)
                                                for step in steps}


def compile_bot(document: BotDocument) -> CompiledBot:
    """The in-memory graph of ``document`` (already validated by ``document.parse``)."""
    steps, groups = _steps(document.steps)
    return CompiledBot(
        document=document,
        first_step=document.first_step,
        steps=steps,
        groups=groups,
        bot_groups=tuple(_group(g) for g in document.connection_groups),
        templates={template.key: CompiledTemplate(template, *_steps(template.steps)) for template in document.templates},
    )


@dataclass
class SessionState:
    """Where a session is: its step (None: new), its variables, its template frames."""

    step: str | None
    scopes: Scopes
    frames: list[dict[str, Any]] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class Outgoing:
    """A message the bot sends."""

    step: str
    text: str
    widget: dict[str, Any] | None = None
    attachments: tuple[str, ...] = ()
    params: dict[str, Any] | None = None

    def as_dict(self) -> dict[str, Any]:
        shown: dict[str, Any] = {"text": self.text}
        if self.widget:
            shown["widget"] = self.widget
        if self.attachments:
            shown["attachments"] = list(self.attachments)
        if self.params:
            shown["params"] = self.params
        return shown


@dataclass
class Outcome:
    messages: list[Outgoing] = field(default_factory=list)
    events: list[tuple[str, str]] = field(default_factory=list)
    """``(step key, "entered" | "moved_on")`` in order: the analytics' funnel."""
    entered: list[str] = field(default_factory=list)
    """The steps entered, in order (their emitters are the host's to schedule)."""
    error: str | None = None
    """What the user is told when the loop guard stopped the bot."""
    reset: bool = False
    """The session's step was gone (removed by a publish): it went back to the first step."""


def message_scope(envelope: dict[str, Any]) -> dict[str, Any]:
    """``message.*`` of an inbound bus envelope: ``text``, ``button``, ``attachments``,
    ``channel``, ``user_id``, ``user_data``. A button pressed is the text too."""
    button = envelope.get("button")
    return {
        "text": str(envelope.get("text") or "") if button is None else str(button),
        "button": None if button is None else str(button),
        "attachments": list(envelope.get("attachments") or []),
        "channel": str(envelope.get("channel") or "web"),
        "user_id": envelope.get("user_id") or envelope.get("platform_user_id"),
        "user_data": envelope.get("user_data") or {},
    }


PROFILE_FIELDS = ("first_name", "last_name", "username")
"""What a client may say of its user in ``user_data`` that a bot reads as ``user.*``."""
PROFILE_LENGTH = 128


def user_profile(envelope: dict[str, Any]) -> dict[str, str]:
    """``user.first_name``, ``user.last_name`` and ``user.username`` as the message's
    ``user_data`` says them (text only, up to 128 characters each): what the client says of
    its user with each message is current, over what the user's variables kept."""
    data = envelope.get("user_data")
    if not isinstance(data, dict):
        return {}
    return {
        key: value[:PROFILE_LENGTH] for key in PROFILE_FIELDS
        if isinstance(value := data.get(key), str) and value.strip()
    }


def message_kind(message: dict[str, Any]) -> str:
    """What the filters of a connection see: ``button``, ``attachment`` or ``text``."""
    if message.get("button") is not None:
        return "button"
    if message.get("attachments"):
        return "attachment"
    return "text"


def render(step: StepDoc, scopes: Scopes, key: str | None = None) -> Outgoing:
    """What entering ``step`` (the session's step ``key``: by default its own) sends, with substitution."""
    message = step.message
    widget = None
    if message.widget is not None and message.widget.buttons:
        widget = {"buttons": [
            {"text": substitute_text(button.text, scopes),
             "value": substitute_text(button.value if button.value is not None else button.text, scopes)}
            for button in message.widget.buttons
        ]}
    attachments = tuple(substitute_text(a, scopes) for a in message.attachments)
    params = substitute(message.params, scopes) if message.params else None
    return Outgoing(key or step.key, substitute_text(message.text, scopes), widget, attachments, params)


async def handle(
    bot: CompiledBot, state: SessionState, actions: ActionRunner, *, max_steps: int = 50, bot_id: str = ""
) -> Outcome:
    """Handle the message in ``state.scopes.message``: ``state`` is changed in place (its
    step, variables and frames), and the outcome says what to send and record."""
    outcome = Outcome()
    if not _valid(bot, state):
        log.warning(
            "scenario session's step was removed by a publish: back to the first step",
            extra={"bot_id": bot_id, "step": state.step},
        )
        outcome.reset = True
        state.step = None
        leave(state.scopes, state.frames)
    starting = state.step is None
    if state.step is None:
        state.step = bot.first_step  # a new session: its first message is evaluated there, nothing is sent
    kind = message_kind(state.scopes.message)
    taken, target = await _evaluate(bot.bot_groups, state.scopes, kind, actions)
    if not taken:
        found = bot.find(state.step)
        taken, target = await _take(state, found[1] if found else (), kind, actions)
    await _follow(
        bot, state, outcome, taken, target, kind, actions, max_steps=max_steps, bot_id=bot_id, starting=starting
    )
    return outcome


def _valid(bot: CompiledBot, state: SessionState) -> bool:
    """The session's step is one of ``bot`` (a new session too), and its frames are those of
    the template instance it is inside of (false: a publish removed the step, the template
    or the instance)."""
    if state.step is None:
        return not state.frames
    instance = instance_of(state.step)
    if instance is None:
        return not state.frames and state.step in bot.steps
    use = bot.steps[instance].template if instance in bot.steps else None
    return (
        use is not None and len(state.frames) == 1 and state.frames[-1].get("instance") == instance
        and state.frames[-1].get("template") == use.template and bot.find(state.step) is not None
    )


async def move(
    bot: CompiledBot, state: SessionState, actions: ActionRunner, *, from_step: str | None, target: str,
    max_steps: int = 50, bot_id: str = "",
) -> Outcome:
    """A move the scheduler makes (a step's emitter after its delay, a bot's cron): the
    session enters ``target`` (its message is sent; a proxy step is evaluated at once), no
    group is evaluated first. Dropped (nothing happens) when ``from_step`` is given and the
    session is no longer in it, or when ``target`` is not a step of the bot's version (a
    template's step: not one of the template the session is in)."""
    outcome = Outcome()
    current = state.step if state.step is not None else bot.first_step
    inside = instance_of(target)
    if (
        (from_step is not None and current != from_step) or bot.find(target) is None
        or (inside is not None and (instance_of(current) != inside or not _valid(bot, state)))
    ):
        log.info("scenario delayed move dropped: the session moved on", extra={"bot_id": bot_id, "step": current})
        return outcome
    starting = state.step is None
    state.step = current
    kind = message_kind(state.scopes.message)
    await _follow(
        bot, state, outcome, True, target, kind, actions, max_steps=max_steps, bot_id=bot_id, starting=starting
    )
    return outcome


async def _follow(
    bot: CompiledBot, state: SessionState, outcome: Outcome, taken: bool, target: str | None, kind: str,
    actions: ActionRunner, *, max_steps: int, bot_id: str, starting: bool = False,
) -> None:
    """Enter ``target`` and the proxy steps after it, into and out of templates (see the module).
    ``starting``: the session is new, at the first step without having entered it (its
    message was not sent): leaving it is no move on in the funnel, which counts the moves
    on from a step of the sessions that entered it (never more than entered it)."""
    assert state.step is not None
    moves = 0
    while True:
        if not taken and state.frames:  # a template's step took nothing: the template ends
            instance = _return(bot, state, outcome)
            taken, target = await _take(state, bot.groups.get(instance, ()), kind, actions)
            continue
        if not taken or target is None:
            break
        moves += 1
        if moves > max_steps:
            log.warning(
                "scenario loop guard: more than %d steps for one message", max_steps,
                extra={"bot_id": bot_id, "step": state.step},
            )
            outcome.error = LOOP_MESSAGE.format(limit=max_steps)
            if state.frames and instance_of(state.step) is None:
                leave(state.scopes, state.frames)  # stopped before its template's first step: not inside it
            break
        step, groups = _enter(bot, state, outcome, target, entered_from=not starting)
        starting = False
        if step.template is not None:  # an instance: into its template's first step
            template = bot.templates[step.template.template].doc
            push(state.scopes, state.frames, instance=target, use=step.template, template=template)
            target = qualify(target, template.first_step)
            continue
        if not (step.is_proxy or (state.frames and not any(group.connections for group in groups))):
            break
        taken, target = await _take(state, groups, kind, actions)


def _enter(bot: CompiledBot, state: SessionState, outcome: Outcome, target: str, *, entered_from: bool = True) -> Found:
    """The session enters ``target`` (a bot's step from inside a template leaves it): the
    funnel's events, and its message sent. ``entered_from`` false: the session is leaving a
    step it never entered (a new session's first step), which moves nothing on."""
    assert state.step is not None
    inside = instance_of(target)
    if inside is None and state.frames:  # from inside a template to a step of the bot: left without returning
        outcome.events.append((state.step, MOVED_ON))
        state.step = state.frames[0]["instance"]
        leave(state.scopes, state.frames)
    if state.step != inside and entered_from:  # entering a template: its instance moves on when it returns
        outcome.events.append((state.step, MOVED_ON))
    outcome.events.append((target, ENTERED))
    outcome.entered.append(target)
    state.step = target
    found = bot.find(target)
    assert found is not None, target  # references are checked when a document is parsed
    sent = render(found[0], state.scopes, target)
    if sent.text or sent.widget or sent.attachments:  # a step with no message sends nothing
        outcome.messages.append(sent)
    return found


def _return(bot: CompiledBot, state: SessionState, outcome: Outcome) -> str:
    """The template the session is in ends: its outputs mapped, back in its instance step."""
    instance: str = state.frames[-1]["instance"]
    use = bot.steps[instance].template
    assert use is not None
    outcome.events.append((state.step or instance, MOVED_ON))
    pop(state.scopes, state.frames, use)
    state.step = instance
    return instance


async def _take(
    state: SessionState, groups: tuple[CompiledGroup, ...], kind: str, actions: ActionRunner
) -> tuple[bool, str | None]:
    """:func:`_evaluate` for the session's step: the step taken to qualified inside a template."""
    taken, target = await _evaluate(groups, state.scopes, kind, actions)
    if target is not None and state.frames:
        target = qualify(state.frames[-1]["instance"], target)
    return taken, target


async def _evaluate(
    groups: tuple[CompiledGroup, ...], scopes: Scopes, kind: str, actions: ActionRunner
) -> tuple[bool, str | None]:
    """``(taken, next step)`` of the first connection of ``groups`` that takes the message."""
    for group in groups:
        if group.doc.search_type != "message":
            result = await actions(group.doc, scopes)
            _assign(group, result, scopes)
        elif group.paths:  # a message group's result is the message (``$.text``)
            _assign(group, scopes.message, scopes)
        for connection in group.connections:
            if connection.filters and kind not in connection.filters:
                continue
            if rules.holds(connection.rules, scopes):
                return True, connection.next_step
    return False, None


def _assign(group: CompiledGroup, result: Any, scopes: Scopes) -> None:
    """Set the group's variables from its action's result: one match is the value, several
    a list, none ``None``."""
    for name, path in group.paths:
        value: Any = None
        if path is not None:
            try:
                found = path.findall(result)
            except Exception:  # noqa: BLE001 - a path that does not apply finds nothing
                found = []
            value = found[0] if len(found) == 1 else (found or None)
        try:
            scopes.set(name, value)
        except (ValueError, KeyError):
            log.warning("scenario variable %r can't be set", name)
