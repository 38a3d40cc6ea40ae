"""``agenthub mcp``: the same tools over stdio, as the API key in ``AGENTHUB_API_KEY``, in a
real subprocess driven by the official MCP client."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

from mcp.client.session import ClientSession
from mcp.client.stdio import StdioServerParameters, stdio_client

from tests.e2e.processes import AGENTHUB, clean_env
from tests.mcp.test_mcp_http import call, text_of
from tests.support.accounts import api_key
from tests.support.server import make_settings, running_app

GREETER = {
    "format": "agenthub.bot/v1", "name": "Greeter", "first_step": "hello",
    "steps": [{"key": "hello", "message": {"text": "Hello from stdio!"}, "connection_groups": [
        {"search_type": "message", "connections": [{"rules": {}, "next_step": "hello"}]}]}],
}


async def test_the_tools_over_stdio_act_as_the_api_key(tmp_path: Path) -> None:
    database_url = f"sqlite+aiosqlite:///{(tmp_path / 'agenthub.db').as_posix()}"
    async with running_app(make_settings(database_url=database_url)) as app:  # migrated, with a key
        key = await api_key(app)
    env = clean_env(DATABASE_URL=database_url, DATA_DIR=str(tmp_path), AGENTHUB_API_KEY=key)
    server = StdioServerParameters(command=AGENTHUB, args=["mcp"], env=env, cwd=str(tmp_path))
    with (tmp_path / "stderr.log").open("w") as errlog:
        async with stdio_client(server, errlog=errlog) as (read, write), ClientSession(read, write) as session:
            await session.initialize()
            bot = await call(session, "import_bot", document=GREETER)
            answer = await call(session, "test_bot", bot_id=bot["id"], text="hi")
            listed = await call(session, "list_bots")
            missing = await session.call_tool("get_bot", {"bot_id": "bot-nope"})
    assert [m["text"] for m in answer["messages"]] == ["Hello from stdio!"]
    assert [b["id"] for b in listed["items"]] == [bot["id"]]
    assert missing.is_error and "not found" in text_of(missing)
    assert json.loads(json.dumps(listed))  # plain JSON


def test_without_a_key_it_says_which_variable_to_set(tmp_path: Path) -> None:
    env = clean_env(DATA_DIR=str(tmp_path))
    env.pop("AGENTHUB_API_KEY", None)
    done = subprocess.run([AGENTHUB, "mcp"], env=env, cwd=tmp_path, capture_output=True, text=True, timeout=60)
    assert done.returncode == 2
    assert "AGENTHUB_API_KEY" in done.stderr
    assert done.stdout == ""
