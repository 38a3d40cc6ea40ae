"""Template instances in the step machine alone: entering one runs the template's steps with
its inputs bound, a template step waits for the user inside it, and the template's end
maps its outputs and moves the instance on."""

from __future__ import annotations

import logging
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from agenthub.scenarios.document import GroupDoc, parse
from agenthub.scenarios.engine import LOOP_MESSAGE, SessionState, compile_bot, handle, message_scope, move
from agenthub.scenarios.variables import Scopes
from tests.scenarios.helpers import equal, go

CONTAINS_GOOD = {"condition": "AND", "rules": [{"field": "message.text", "operator": "contains", "value": "good"}]}


def greeter(**template: Any) -> dict[str, Any]:
    """A bot asking a name, then an instance of ``greet`` with it, then a step using its outputs."""
    greet = {
        "key": "greet", "name": "Greet", "inputs": {"type": "object", "properties": {"who": {"type": "string"}}},
        "outputs": {"type": "object"}, "variables": {"greeting": "", "style": "Hello"}, "first_step": "ask",
        "steps": [
            {"key": "ask", "message": {"text": "{$session.style$} {$session.who$}! How are you?"},
             "emitter": {"delay_seconds": 60, "next_step": "remind"},
             "connection_groups": [{"connections": [go("good", CONTAINS_GOOD, 10), go("bad", equal("bad"), 5)]}]},
            {"key": "good", "is_proxy": True, "message": {"text": "Glad to hear."}, "connection_groups": [
                {"search_type": "code", "code": "async def main(message, variables):\n    return {}",
                 "variables": {"greeting": "$.greeting", "mood": "$.mood"}}]},
            {"key": "bad", "message": {"text": "Sorry, {$session.who$}."}},
            {"key": "remind", "message": {"text": "Still there, {$session.who$}?"},
             "connection_groups": [{"connections": [go("good", CONTAINS_GOOD)]}]},
        ],
    } | template
    return {
        "name": "Greeter", "first_step": "hello",
        "connection_groups": [{"connections": [go("hello", equal("/start"), 100)]}],
        "steps": [
            {"key": "hello", "message": {"text": "What's your name?"},
             "connection_groups": [{"connections": [go("greeting")]}]},
            {"key": "greeting", "is_proxy": True, "message": {"text": "Let me greet you."},
             "template": {"template": "greet", "inputs": {"who": "{$message.text$}", "count": 2},
                          "outputs": {"greeting": "session.greeting", "mood": "user.mood"}},
             "connection_groups": [{"connections": [go("after")]}]},
            {"key": "after", "message": {"text": "Back: {$session.greeting$} ({$user.mood$}) "
                                                 "who={$session.who$} mine={$session.mine$}"}},
        ],
        "templates": [greet],
    }


class Actions:
    """The code step's result: what a template computed."""

    def __init__(self) -> None:
        self.seen: list[dict[str, Any]] = []

    async def __call__(self, group: GroupDoc, scopes: Scopes) -> dict[str, Any]:
        self.seen.append(dict(scopes.session))
        return {"greeting": f"Hi {scopes.session.get('who')}", "mood": "good"}


def state(step: str | None = "hello") -> SessionState:
    return SessionState(step, Scopes(user={}, session={"mine": "kept"}))


async def send(bot: Any, session: SessionState, text: str, *, max_steps: int = 50) -> list[str]:
    session.scopes.message = message_scope({"text": text})
    outcome = await handle(bot, session, Actions(), max_steps=max_steps)
    return [m.text for m in outcome.messages] + ([outcome.error] if outcome.error else [])


INSIDE = {"greeting": "", "style": "Hello", "who": "Ann", "count": 2}
FRAME = {"instance": "greeting", "template": "greet", "caller": {"mine": "kept"}}


async def test_an_instance_runs_its_template_which_waits_for_the_user_then_maps_its_outputs() -> None:
    bot, session = compile_bot(parse(greeter())), state()
    session.scopes.message = message_scope({"text": "Ann"})
    outcome = await handle(bot, session, Actions())
    assert [m.text for m in outcome.messages] == ["Let me greet you.", "Hello Ann! How are you?"]
    assert session.step == "greeting/ask"  # waiting inside the template, named by its instance
    assert session.frames == [FRAME]
    assert session.scopes.session == INSIDE  # the template's variables and the inputs, its own scope
    assert outcome.entered == ["greeting", "greeting/ask"]
    assert outcome.events == [("hello", "moved_on"), ("greeting", "entered"), ("greeting/ask", "entered")]

    actions = Actions()
    session.scopes.message = message_scope({"text": "good, thanks"})
    outcome = await handle(bot, session, actions)
    assert [m.text for m in outcome.messages] == ["Glad to hear.", "Back: Hi Ann (good) who= mine=kept"]
    assert actions.seen == [INSIDE]  # the template's step sees its own session.*
    assert session.step == "after" and session.frames == []
    assert session.scopes.session == {"mine": "kept", "greeting": "Hi Ann"}
    assert session.scopes.user == {"mood": "good"}
    assert outcome.events == [
        ("greeting/ask", "moved_on"), ("greeting/good", "entered"), ("greeting/good", "moved_on"),
        ("greeting", "moved_on"), ("after", "entered"),
    ]


async def test_a_message_no_template_connection_takes_ends_the_template() -> None:
    bot, session = compile_bot(parse(greeter())), state()
    await send(bot, session, "Ann")
    # Nothing takes "meh" in `ask`: the template ends; `mood` was never set, so user.mood is not written.
    assert await send(bot, session, "meh") == ["Back:  () who= mine=kept"]
    assert session.step == "after"
    assert session.scopes.session == {"mine": "kept", "greeting": ""} and session.scopes.user == {}


async def test_a_template_step_without_connections_ends_the_template_once_entered() -> None:
    bot, session = compile_bot(parse(greeter())), state()
    await send(bot, session, "Bob")
    assert await send(bot, session, "bad") == ["Sorry, Bob.", "Back:  () who= mine=kept"]
    assert session.step == "after"


async def test_an_instance_whose_own_groups_take_nothing_keeps_the_session_in_it() -> None:
    document = greeter()
    document["steps"][1]["connection_groups"] = [{"connections": [go("after", equal("never"))]}]
    bot, session = compile_bot(parse(document)), state()
    await send(bot, session, "Ann")
    assert await send(bot, session, "bad") == ["Sorry, Ann."]
    assert session.step == "greeting" and session.frames == []
    assert await send(bot, session, "never") == ["Back:  () who= mine=kept"]


async def test_a_bot_level_handler_leaves_the_template_without_its_outputs() -> None:
    bot, session = compile_bot(parse(greeter())), state()
    await send(bot, session, "Ann")
    session.scopes.message = message_scope({"text": "/start"})
    outcome = await handle(bot, session, Actions())
    assert [m.text for m in outcome.messages] == ["What's your name?"]
    assert session.step == "hello" and session.frames == []
    assert session.scopes.session == {"mine": "kept"}
    assert outcome.events == [("greeting/ask", "moved_on"), ("greeting", "moved_on"), ("hello", "entered")]


@pytest.mark.parametrize("change", ["template removed", "step renamed", "instance removed", "other template"])
async def test_a_publish_removing_where_the_session_waits_sends_it_to_the_first_step(
    change: str, caplog: pytest.LogCaptureFixture
) -> None:
    document = greeter()
    document["steps"][0]["connection_groups"] = [{"connections": [go("greeting", equal("Ann"))]}]
    if change == "template removed":
        document["steps"][1].pop("template")
        document["templates"] = []
    elif change == "step renamed":
        document["templates"][0]["steps"][0]["key"] = "asking"
        document["templates"][0]["first_step"] = "asking"
    elif change == "instance removed":
        document["steps"].pop(1)
        document["steps"][0]["connection_groups"] = [{"connections": [go("after", equal("Ann"))]}]
    else:
        other = dict(document["templates"][0], key="other")
        document["templates"].append(other)
        document["steps"][1]["template"]["template"] = "other"
    bot = compile_bot(parse(document))
    session = SessionState("greeting/ask", Scopes(session=dict(INSIDE)), [dict(FRAME)])
    session.scopes.message = message_scope({"text": "/nothing"})
    with caplog.at_level(logging.WARNING):
        outcome = await handle(bot, session, Actions())
    assert outcome.reset is True and "removed by a publish" in caplog.text
    assert session.frames == [] and session.scopes.session == {"mine": "kept"}  # the caller's variables back
    assert session.step == "hello" and outcome.messages == []  # "/nothing" evaluated at the first step


async def test_the_loop_guard_counts_the_template_steps() -> None:
    document = greeter(first_step="a", steps=[
        {"key": "a", "is_proxy": True, "message": {"text": "a"}, "connection_groups": [{"connections": [go("b")]}]},
        {"key": "b", "is_proxy": True, "message": {"text": "b"}, "connection_groups": [{"connections": [go("a")]}]},
    ])
    sent = await send(compile_bot(parse(document)), state(), "Ann", max_steps=5)
    assert sent == ["Let me greet you.", "a", "b", "a", "b", LOOP_MESSAGE.format(limit=5)]


async def test_scheduled_moves_inside_a_template_and_out_of_it() -> None:
    bot = compile_bot(parse(greeter()))
    session = SessionState("greeting/ask", Scopes(session=dict(INSIDE)), [dict(FRAME)])
    reminded = await move(bot, session, Actions(), from_step="greeting/ask", target="greeting/remind")
    assert [m.text for m in reminded.messages] == ["Still there, Ann?"]
    assert session.step == "greeting/remind" and session.frames == [FRAME]

    elsewhere = SessionState("after", Scopes(session={}))  # not in that instance: dropped
    assert (await move(bot, elsewhere, Actions(), from_step=None, target="greeting/remind")).messages == []
    assert elsewhere.step == "after"

    cron = await move(bot, session, Actions(), from_step=None, target="hello")  # a cron: leaves the template
    assert [m.text for m in cron.messages] == ["What's your name?"]
    assert session.step == "hello" and session.frames == [] and session.scopes.session == {"mine": "kept"}


# --- any bot with an instance, any message: within the guard, in a step the session can name --

KEYS = ["s0", "s1", "s2"]
INNER = ["t0", "t1"]
rule_sets = st.sampled_from([{}, equal("a"), equal("b")])


def _groups(keys: list[str]) -> st.SearchStrategy[list[dict[str, Any]]]:
    connection = st.builds(lambda rules, step: {"rules": rules, "next_step": step},
                           rule_sets, st.sampled_from([*keys, None]))
    return st.lists(st.builds(lambda cs: {"connections": cs}, st.lists(connection, max_size=2)), max_size=2)


bots = st.builds(
    lambda proxies, step_groups, inner_proxies, inner_groups: {
        "name": "Any", "first_step": "s0",
        "steps": [{"key": key, "is_proxy": proxy, "message": {"text": key}, "connection_groups": g}
                  | ({"template": {"template": "t", "outputs": {"x": "session.x"}}} if key == "s1" else {})
                  for key, proxy, g in zip(KEYS, proxies, step_groups, strict=True)],
        "templates": [{"key": "t", "name": "T", "first_step": "t0", "variables": {"x": 1}, "steps": [
            {"key": key, "is_proxy": proxy, "message": {"text": key}, "connection_groups": g}
            for key, proxy, g in zip(INNER, inner_proxies, inner_groups, strict=True)]}],
    },
    st.lists(st.booleans(), min_size=3, max_size=3), st.lists(_groups(KEYS), min_size=3, max_size=3),
    st.lists(st.booleans(), min_size=2, max_size=2), st.lists(_groups(INNER), min_size=2, max_size=2),
)


@settings(max_examples=150, deadline=None)
@given(bots, st.lists(st.sampled_from(["a", "b", "c"]), min_size=1, max_size=4))
async def test_any_bot_with_an_instance_answers_any_messages_within_the_guard(
    document: dict[str, Any], texts: list[str]
) -> None:
    bot = compile_bot(parse(document))
    session = SessionState(None, Scopes(session={"mine": "kept"}))
    for text in texts:
        session.scopes.message = message_scope({"text": text})
        outcome = await handle(bot, session, Actions(), max_steps=6)
        assert not outcome.reset and len(outcome.entered) <= 6
        assert [m.step for m in outcome.messages] == outcome.entered
        inside = session.step is not None and "/" in session.step
        assert session.step in KEYS or (inside and session.step.partition("/")[2] in INNER)
        assert [frame["instance"] for frame in session.frames] == (["s1"] if inside else [])
        assert session.scopes.session.get("mine") == ("kept" if not inside else None)


async def test_the_loop_guard_stopping_at_an_instance_leaves_the_session_at_the_instance() -> None:
    """The guard's last move enters an instance: the session waits there, outside its template
    (it was never entered), and the next message is evaluated there, not reset."""
    document = {
        "name": "Guarded", "first_step": "s0",
        "steps": [
            {"key": "s0", "is_proxy": True, "message": {"text": "s0"},
             "connection_groups": [{"connections": [{"rules": {}, "next_step": "s1"}]}]},
            {"key": "s1", "message": {"text": "s1"}, "connection_groups": [],
             "template": {"template": "t", "outputs": {"x": "session.x"}}},
        ],
        "templates": [{"key": "t", "name": "T", "first_step": "t0", "steps": [
            {"key": "t0", "message": {"text": "t0"}, "connection_groups": []}]}],
    }
    bot = compile_bot(parse(document))
    session = SessionState("s0", Scopes(session={"mine": "kept"}))
    session.scopes.message = message_scope({"text": "a"})
    outcome = await handle(bot, session, Actions(), max_steps=1)  # into s1; the guard stops the move into t0
    assert outcome.error and outcome.entered == ["s1"]
    assert session.step == "s1" and session.frames == [] and session.scopes.session == {"mine": "kept"}
    outcome = await handle(bot, session, Actions(), max_steps=1)
    assert not outcome.reset and session.step == "s1"
