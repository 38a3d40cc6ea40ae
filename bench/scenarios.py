"""The scenario engine alone: steps per second on one core, rules and substitution, no I/O.

A bot of a chain of proxy steps (each: three connections whose rules are evaluated, the
first two failing, values substituted; a message text with two variables substituted, and
buttons), a bot-level ``/start`` group tried on every message, and a last step that waits.
Each incoming message walks the whole chain from the first step; a step is one move (rules
evaluated, a step entered, its message rendered).

    PYTHONPATH=src .venv/bin/python bench/scenarios.py [--steps 20] [--seconds 5]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import platform
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "src"))

from agenthub.scenarios.document import GroupDoc, parse  # noqa: E402
from agenthub.scenarios.engine import SessionState, compile_bot, handle, message_scope  # noqa: E402
from agenthub.scenarios.variables import Scopes  # noqa: E402


def rule(field: str, operator: str, value: Any) -> dict[str, Any]:
    return {"field": field, "operator": operator, "value": value}


def document(steps: int) -> dict[str, Any]:
    chain = []
    for index in range(steps):
        key, following = f"s{index}", f"s{index + 1}"
        connections = [
            {"rules": {"condition": "AND", "rules": [rule("message.text", "equal", "cancel"),
                                                    rule("session.count", "greater", "{$bot.limit$}")]},
             "priority": 30, "next_step": "s0"},
            {"rules": {"condition": "OR", "rules": [rule("message.text", "begins_with", "/help"),
                                                   rule("user.tier", "in", "gold, platinum")]},
             "priority": 20, "next_step": "s0"},
            {"rules": {"condition": "AND", "rules": [rule("message.text", "contains", "{$session.word$}"),
                                                    rule("user.age", "between", [18, 99])]},
             "priority": 10, "next_step": following},
        ]
        chain.append({
            "key": key, "is_proxy": index > 0,
            "message": {"text": "Step {$session.word$} for {$user.name$}",
                        "widget": {"buttons": [{"text": "Yes", "value": "yes"}, {"text": "No"}]}},
            "connection_groups": [{"connections": connections}],
        })
    chain.append({"key": f"s{steps}", "message": {"text": "Done, {$user.name$}."}})
    return {"name": "Bench", "first_step": "s0", "variables": {"limit": 10},
            "connection_groups": [{"connections": [
                {"rules": {"condition": "AND", "rules": [rule("message.text", "equal", "/start")]},
                 "next_step": "s0", "priority": 100}]}],
            "steps": chain}


async def no_actions(group: GroupDoc, scopes: Scopes) -> dict[str, Any]:
    return {}


async def run(steps: int, seconds: float) -> tuple[int, int, float]:
    bot = compile_bot(parse(document(steps)))
    moves = messages = 0
    started = time.perf_counter()
    deadline = started + seconds
    while time.perf_counter() < deadline:
        for _ in range(100):
            state = SessionState("s0", Scopes(
                bot={"limit": 10}, user={"name": "Ann", "age": "42", "tier": "silver"},
                session={"word": "pizza", "count": 3},
                message=message_scope({"text": "a pizza please", "channel": "web"}),
            ))
            outcome = await handle(bot, state, no_actions, max_steps=steps + 5)
            moves += len(outcome.entered)
            messages += 1
    return moves, messages, time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=20, help="steps in the chain each message walks")
    parser.add_argument("--seconds", type=float, default=5.0)
    args = parser.parse_args()
    if hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {min(os.sched_getaffinity(0))})  # one core
    moves, messages, elapsed = asyncio.run(run(args.steps, args.seconds))
    print(f"python {platform.python_version()}, {args.steps} steps a message, {elapsed:.1f} s on one core")
    print(f"{moves / elapsed:,.0f} steps/s ({messages / elapsed:,.0f} messages/s, {moves:,} steps)")


if __name__ == "__main__":
    main()
