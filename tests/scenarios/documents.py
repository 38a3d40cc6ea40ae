"""Shared by the scenario bot tests: the issue's example document, and rows put in the
database as the engine would write them."""

from __future__ import annotations

import copy
from collections.abc import Iterable
from typing import Any

from sqlalchemy.orm import DeclarativeBase

from agenthub.db.engine import create_engine, create_session_factory, session_scope

PIZZA: dict[str, Any] = {
    "format": "agenthub.bot/v1", "name": "Pizza", "first_step": "hello",
    "variables": {"shop": "Luigi"},
    "connection_groups": [{"search_type": "message", "connections": [
        {"rules": {"condition": "AND", "rules": [{"field": "message.text", "operator": "equal", "value": "/start"}]},
         "priority": 100, "next_step": "hello"}]}],
    "steps": [
        {"key": "hello", "message": {"text": "Hi {$user.first_name$}! Pizza or pasta?",
                                     "widget": {"buttons": [{"text": "Pizza", "value": "pizza"},
                                                            {"text": "Pasta", "value": "pasta"}]}},
         "is_proxy": False,
         "connection_groups": [{"search_type": "message", "connections": [
             {"rules": {"condition": "AND",
                        "rules": [{"field": "message.text", "operator": "contains", "value": "pizza"}]},
              "priority": 10, "next_step": "size"},
             {"rules": {}, "priority": 0, "next_step": "hello"}]}]},
        {"key": "size", "message": {"text": "Which size, {$user.first_name$}?"}, "connection_groups": []},
    ],
    "requests": [{"key": "menu", "method": "GET", "url": "https://example.com/menu?shop={$bot.shop$}"}],
    "templates": [],
}


def pizza(**changes: Any) -> dict[str, Any]:
    document = copy.deepcopy(PIZZA)
    document.update(changes)
    return document


async def insert(database_url: str, rows: Iterable[DeclarativeBase]) -> None:
    """Put rows in the app's database (as the engine writes them)."""
    engine = create_engine(database_url, pool_size=1)
    try:
        async with session_scope(create_session_factory(engine)) as session:
            for row in rows:
                session.add(row)
    finally:
        await engine.dispose()
