"""The CLI lists agents of every kind: one of a kind without a provider and a model (here
``reverse``, put in the database by other means) shows ``-`` for them."""

from __future__ import annotations

from pathlib import Path

from agenthub.agents.models import DEFAULT_ORG, Agent
from agenthub.db.engine import session_scope
from tests.cli.test_cli import agenthub, logged_in
from tests.support.server import make_settings, running_app


async def test_agents_list_shows_agents_of_other_kinds(sqlite_url: str, tmp_path: Path) -> None:
    async with running_app(make_settings(database_url=sqlite_url)) as app:
        async with session_scope(app.app.state.session_factory) as session:
            session.add(Agent(
                id="reverser", org_id=DEFAULT_ORG, name="Reverser", kind="reverse",
                settings={"isolation": "shared", "integrations": []}, config_version=1,
            ))
        await logged_in(app.url, tmp_path)
        listed = await agenthub("agents", "list", "--api-url", app.url, cwd=tmp_path)

    assert listed.returncode == 0, listed
    assert "reverser\tReverser\t-\t-\tshared" in listed.stdout.splitlines(), listed.stdout
