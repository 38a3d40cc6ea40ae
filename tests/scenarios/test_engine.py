"""The step machine alone, with a fake action runner: what a bot sends and where a session goes."""

from __future__ import annotations

import logging
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from agenthub.scenarios.document import GroupDoc, parse
from agenthub.scenarios.engine import LOOP_MESSAGE, SessionState, compile_bot, handle, message_scope, move
from agenthub.scenarios.variables import Scopes


def equal(text: str) -> dict[str, Any]:
    return {"condition": "AND", "rules": [{"field": "message.text", "operator": "equal", "value": text}]}


def go(step: str, rules: dict[str, Any] | None = None, priority: int = 0, **more: Any) -> dict[str, Any]:
    return {"rules": rules or {}, "priority": priority, "next_step": step, **more}


PIZZA = {
    "name": "Pizza", "first_step": "hello", "variables": {"shop": "Luigi"},
    "connection_groups": [{"connections": [go("hello", equal("/start"), 100)]}],
    "steps": [
        {"key": "hello", "message": {"text": "Hi {$user.first_name$}! Pizza or pasta at {$bot.shop$}?",
                                     "widget": {"buttons": [{"text": "Pizza", "value": "pizza"}, {"text": "Pasta"}]}},
         "connection_groups": [{"connections": [
             go("hello", {}, 0),
             go("size", {"condition": "AND", "rules": [
                 {"field": "message.text", "operator": "contains", "value": "pizza"}]}, 10),
             go("pasta", equal("Pasta"), 10, filters=["button"]),
         ]}]},
        {"key": "size", "message": {"text": "Which size?"}, "connection_groups": [{"connections": [
            go("ordered", {"condition": "AND", "rules": [{"field": "message.text", "operator": "in",
                                                          "value": "small, large"}]})]}]},
        {"key": "ordered", "is_proxy": True, "message": {"text": "A {$message.text$} pizza: noted."},
         "connection_groups": [{"connections": [go("thanks")]}]},
        {"key": "thanks", "message": {"text": "Thanks!"}},
        {"key": "pasta", "message": {"text": "Pasta it is."}},
    ],
}


class Actions:
    def __init__(self, result: dict[str, Any] | None = None) -> None:
        self.result = result or {}
        self.calls: list[str] = []

    async def __call__(self, group: GroupDoc, scopes: Scopes) -> dict[str, Any]:
        self.calls.append(group.search_type)
        return self.result


def state(step: str | None = None, **session: Any) -> SessionState:
    return SessionState(step, Scopes(bot={"shop": "Luigi"}, user={"first_name": "Ann"}, session=dict(session)))


async def send(bot: Any, session: SessionState, text: str, *, button: str | None = None,
               actions: Actions | None = None, max_steps: int = 50) -> list[str]:
    session.scopes.message = message_scope({"text": text, "button": button})
    outcome = await handle(bot, session, actions or Actions(), max_steps=max_steps)
    return [m.text for m in outcome.messages] + ([outcome.error] if outcome.error else [])


async def test_a_new_session_evaluates_its_first_message_at_the_first_step_without_sending_it() -> None:
    bot, session = compile_bot(parse(PIZZA)), state()
    assert await send(bot, session, "pizza please") == ["Which size?"]
    assert session.step == "size"


async def test_else_branch_and_a_message_no_connection_takes() -> None:
    bot, session = compile_bot(parse(PIZZA)), state()
    assert await send(bot, session, "soup") == ["Hi Ann! Pizza or pasta at Luigi?"]  # {} holds: back to hello
    assert await send(bot, session, "pizza") == ["Which size?"]
    assert await send(bot, session, "huge") == []  # nothing takes it: stays
    assert session.step == "size"


async def test_a_proxy_chain_runs_with_the_same_message() -> None:
    bot, session = compile_bot(parse(PIZZA)), state("size")
    session.scopes.message = message_scope({"text": "large"})
    outcome = await handle(bot, session, Actions())
    assert [m.text for m in outcome.messages] == ["A large pizza: noted.", "Thanks!"]
    assert session.step == "thanks"
    assert outcome.events == [("size", "moved_on"), ("ordered", "entered"), ("ordered", "moved_on"),
                              ("thanks", "entered")]


async def test_buttons_are_sent_and_a_press_is_a_button_message() -> None:
    bot, session = compile_bot(parse(PIZZA)), state("thanks")
    session.scopes.message = message_scope({"text": "/start"})
    outcome = await handle(bot, session, Actions())
    assert outcome.messages[0].widget == {"buttons": [{"text": "Pizza", "value": "pizza"},
                                                      {"text": "Pasta", "value": "Pasta"}]}
    assert await send(bot, session, "Pasta") == ["Hi Ann! Pizza or pasta at Luigi?"]  # typed: not a button
    assert await send(bot, session, "Pasta", button="Pasta") == ["Pasta it is."]


async def test_bot_level_groups_come_first_from_any_step() -> None:
    bot, session = compile_bot(parse(PIZZA)), state("size")
    assert await send(bot, session, "/start") == ["Hi Ann! Pizza or pasta at Luigi?"]
    assert session.step == "hello"


async def test_priorities_decide_between_connections_that_hold() -> None:
    doc = {"name": "P", "first_step": "a", "steps": [
        {"key": "a", "connection_groups": [{"connections": [go("low", {}, 1), go("high", {}, 5), go("mid", {}, 3)]}]},
        {"key": "low", "message": {"text": "low"}}, {"key": "mid", "message": {"text": "mid"}},
        {"key": "high", "message": {"text": "high"}}]}
    assert await send(compile_bot(parse(doc)), state(), "x") == ["high"]


async def test_filters_admit_kinds_of_message() -> None:
    doc = {"name": "F", "first_step": "a", "steps": [
        {"key": "a", "connection_groups": [{"connections": [
            go("file", {}, 2, filters=["attachment"]), go("text", {}, 1, filters=["text"])]}]},
        {"key": "file", "message": {"text": "a file"}}, {"key": "text", "message": {"text": "a text"}}]}
    bot = compile_bot(parse(doc))
    assert await send(bot, state(), "hello") == ["a text"]
    session = state()
    session.scopes.message = message_scope({"text": "", "attachments": ["f1"]})
    assert [m.text for m in (await handle(bot, session, Actions())).messages] == ["a file"]


async def test_the_loop_guard_stops_a_cycle_of_proxies(caplog: pytest.LogCaptureFixture) -> None:
    doc = {"name": "L", "first_step": "a", "steps": [
        {"key": "a", "connection_groups": [{"connections": [go("b")]}]},
        {"key": "b", "is_proxy": True, "message": {"text": "b"}, "connection_groups": [{"connections": [go("c")]}]},
        {"key": "c", "is_proxy": True, "message": {"text": "c"}, "connection_groups": [{"connections": [go("b")]}]}]}
    with caplog.at_level(logging.WARNING):
        sent = await send(compile_bot(parse(doc)), state(), "go", max_steps=5)
    assert sent == ["b", "c", "b", "c", "b", LOOP_MESSAGE.format(limit=5)]
    assert "loop guard" in caplog.text


async def test_a_removed_step_sends_the_session_back_to_the_first(caplog: pytest.LogCaptureFixture) -> None:
    bot, session = compile_bot(parse(PIZZA)), state("gone")
    with caplog.at_level(logging.WARNING):
        assert await send(bot, session, "pizza") == ["Which size?"]
    assert "removed by a publish" in caplog.text


async def test_actions_set_variables_by_jsonpath_and_rules_test_them() -> None:
    doc = {"name": "W", "first_step": "a", "requests": [{"key": "weather", "url": "https://example.com"}],
           "steps": [
               {"key": "a", "connection_groups": [{
                   "search_type": "response", "request": "weather",
                   "variables": {"session.temp": "$.json.main.temp", "cities": "$.json.cities[*]",
                                 "user.failed": "$.error"},
                   "connections": [go("warm", {"condition": "AND", "rules": [
                       {"field": "session.temp", "operator": "greater", "value": "20"}]}), go("cold", {}, -1)]}]},
               {"key": "warm", "message": {"text": "{$session.temp$} degrees in {$session.cities.1$}"}},
               {"key": "cold", "message": {"text": "cold"}}]}
    actions = Actions({"status": 200, "json": {"main": {"temp": 25}, "cities": ["Rome", "Oslo"]}})
    session = state()
    assert await send(compile_bot(parse(doc)), session, "weather?", actions=actions) == ["25 degrees in Oslo"]
    assert actions.calls == ["response"]
    assert session.scopes.user["failed"] is None
    failing = Actions({"error": "connection refused"})
    session = state()
    assert await send(compile_bot(parse(doc)), session, "weather?", actions=failing) == ["cold"]
    assert session.scopes.user["failed"] == "connection refused"


async def test_a_connection_without_next_step_takes_the_message_and_stays() -> None:
    doc = {"name": "S", "first_step": "a", "connection_groups": [{"connections": [
        {"rules": equal("help"), "next_step": None}]}],
        "steps": [{"key": "a", "connection_groups": [{"connections": [go("b")]}]}, {"key": "b"}]}
    session = state()
    assert await send(compile_bot(parse(doc)), session, "help") == []
    assert session.step == "a"


# --- any bot, any message: the machine ends, within the guard, in a step of the bot ------

KEYS = ["s0", "s1", "s2", "s3"]
rule_sets = st.sampled_from([
    {}, equal("a"), equal("b"), {"condition": "OR", "rules": [{"field": "message.text", "operator": "in", "value": "a,b"}]},
    {"condition": "AND", "rules": [{"field": "session.x", "operator": "greater", "value": "1"}], "not": True},
    # (malformed rules are refused when a bot is saved: test_rules covers how they evaluate)
])
connections = st.builds(
    lambda rules, priority, step, filters: {"rules": rules, "priority": priority, "next_step": step, "filters": filters},
    rule_sets, st.integers(-3, 3), st.sampled_from([*KEYS, None]),
    st.lists(st.sampled_from(["text", "button", "attachment"]), max_size=2, unique=True),
)
groups = st.lists(st.builds(lambda cs: {"connections": cs}, st.lists(connections, max_size=3)), max_size=2)
bots = st.builds(
    lambda proxies, step_groups, bot_groups: {
        "name": "Any", "first_step": "s0", "connection_groups": bot_groups,
        "steps": [{"key": key, "is_proxy": proxy, "message": {"text": key}, "connection_groups": g}
                  for key, proxy, g in zip(KEYS, proxies, step_groups, strict=True)]},
    st.lists(st.booleans(), min_size=4, max_size=4), st.lists(groups, min_size=4, max_size=4), groups,
)


@settings(max_examples=150, deadline=None)
@given(bots, st.sampled_from([None, "s0", "s2", "gone"]), st.sampled_from(["a", "b", "c"]), st.booleans())
async def test_any_bot_answers_any_message_within_the_guard(
    document: dict[str, Any], step: str | None, text: str, pressed: bool
) -> None:
    bot = compile_bot(parse(document))
    session = state(step, x="2")
    session.scopes.message = message_scope({"text": text, "button": text if pressed else None})
    outcome = await handle(bot, session, Actions(), max_steps=6)
    assert session.step in KEYS
    assert len(outcome.messages) <= 6
    assert len(outcome.entered) <= 6
    if outcome.error is not None:  # the guard stopped it: it had taken its 6 steps
        assert len(outcome.entered) == 6
    assert [m.step for m in outcome.messages] == outcome.entered
    if outcome.messages and outcome.error is None:
        assert session.step == outcome.messages[-1].step


async def test_a_scheduled_move_enters_its_step_and_a_proxy_chain_only_from_the_step_that_scheduled_it() -> None:
    bot = compile_bot(parse(PIZZA))
    actions = Actions()
    moved = state("size")
    moved.scopes.message = message_scope({"text": "", "channel": "web"})
    outcome = await move(bot, moved, actions, from_step="size", target="ordered")
    assert [m.text for m in outcome.messages] == ["A  pizza: noted.", "Thanks!"]  # proxy `ordered` went on
    assert outcome.entered == ["ordered", "thanks"] and moved.step == "thanks"

    stayed = state("pasta")
    dropped = await move(bot, stayed, actions, from_step="size", target="ordered")
    assert dropped.messages == [] and dropped.entered == [] and stayed.step == "pasta"
    anywhere = await move(bot, state("pasta"), actions, from_step=None, target="thanks")  # a cron: any step
    assert [m.text for m in anywhere.messages] == ["Thanks!"]
    gone = await move(bot, state("pasta"), actions, from_step=None, target="no-such-step")
    assert gone.messages == [] and not actions.calls
