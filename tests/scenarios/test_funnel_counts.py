"""The funnel a bot's analytics show (``GET /api/v1/bots/{id}/analytics``), counted from a
real chat over the WebSocket, on SQLite and PostgreSQL: a step is entered when a session
goes into it, and moved on from when a session that entered it leaves it; a new session
starts at the first step without entering it, and a message no connection takes moves
nothing. So no step shows more moves on than entries."""

from __future__ import annotations

from typing import Any

from tests.agents.helpers import client_for
from tests.scenarios.helpers import PIZZA, ws_turn
from tests.scenarios.test_scenario_turns import texts
from tests.support.ws import connect


async def test_start_a_button_and_messages_nothing_takes_count_each_move_once(database_url: str) -> None:
    async with client_for(database_url) as (app, client):
        imported = await client.post("/api/v1/bots/import", json=PIZZA)
        assert imported.status_code == 201, imported.text
        bot_id = imported.json()["id"]
        async with connect(app.ws(f"/ws/agents/{bot_id}?chat_id=funnel")) as socket:
            # /start in a new session: it enters the first step (where it started, not entered).
            assert texts(await ws_turn(socket, "/start")) == ["Hi! Pizza or pasta at Luigi?"]
            assert texts(await ws_turn(socket, "pizza", button="pizza")) == ["Which size?"]
            # Sent again (the chat's Retry): `size` has no connection taking it, nothing moves.
            assert texts(await ws_turn(socket, "pizza")) == [""]
            assert texts(await ws_turn(socket, "pizza")) == [""]
            funnel = await _funnel(client, bot_id)
            assert funnel == {"hello": (1, 1), "size": (1, 0)}

            # On to a step with no connection at all: messages there move nothing either.
            assert texts(await ws_turn(socket, "large")) == ["A large pizza: noted.", "Thanks!"]
            assert texts(await ws_turn(socket, "large")) == [""]
            # /start (a bot-level connection) from there: thanks moves on, hello is entered again.
            assert texts(await ws_turn(socket, "/start")) == ["Hi! Pizza or pasta at Luigi?"]
        funnel = await _funnel(client, bot_id)
        assert funnel == {"hello": (2, 1), "size": (1, 1), "ordered": (1, 1), "thanks": (1, 1)}
        assert all(moved <= entered for entered, moved in funnel.values())


async def test_a_first_message_that_moves_a_new_session_on_counts_no_move_from_where_it_started(
    database_url: str,
) -> None:
    async with client_for(database_url) as (app, client):
        imported = await client.post("/api/v1/bots/import", json=PIZZA)
        assert imported.status_code == 201, imported.text
        bot_id = imported.json()["id"]
        async with connect(app.ws(f"/ws/agents/{bot_id}?chat_id=direct")) as socket:
            # No greeting: the first message is tried against the first step's connections.
            assert texts(await ws_turn(socket, "pizza please")) == ["Which size?"]
        assert await _funnel(client, bot_id) == {"size": (1, 0)}


async def _funnel(client: Any, bot_id: str) -> dict[str, tuple[int, int]]:
    answer = await client.get(f"/api/v1/bots/{bot_id}/analytics")
    assert answer.status_code == 200, answer.text
    return {row["step_id"]: (row["entered"], row["moved_on"]) for row in answer.json()["steps"]
            if row["entered"] or row["moved_on"]}
