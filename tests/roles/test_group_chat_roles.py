"""Group chats' ``@@role`` mentions and the platform's roles: a role no agent of the
organisation is called is answered by the group's agent with the role's prompt."""

from __future__ import annotations

from pathlib import Path

from agenthub.roles.library import RoleLibrary
from tests.agents.helpers import agent_body, client_for
from tests.groupchats.helpers import create_group, next_event, post, subscribed
from tests.support.fake_openai import FakeOpenAI
from tests.support.ws import connect

LAWYER_FIRST_LINE = RoleLibrary().get("lawyer").prompt.splitlines()[0]  # type: ignore[union-attr]


async def test_the_groups_agent_answers_a_platform_role_by_its_prompt(sqlite_url: str, tmp_path: Path) -> None:
    (tmp_path / "coach.md").write_text("---\ndescription: Coaches\n---\nCOACH-PROMPT: be encouraging.\n")
    with FakeOpenAI() as model:
        async with client_for(sqlite_url, roles_dir=tmp_path) as (app, owner):
            for handle in ("desk", "hr"):
                body = agent_body(id=handle, settings={
                    "provider": "openai_compatible", "model_id": f"{handle}-model", "base_url": model.url,
                })
                assert (await owner.post("/api/v1/agents", json=body)).status_code == 201
            group = await create_group(owner, name="Office", agent_id="desk")
            async with connect(f"{app.ws_url}/ws/group-chats/{group['id']}?token={app.token}") as socket:
                await subscribed(socket)
                for text in ("@@lawyer may we sign?", "@@coach we lost", "@@oracle rain?", "@@hr my leave?"):
                    question = await post(owner, group["id"], text)
                    assert question["mentions"][0]["status"] == "asked", question
                    await next_event(socket, "message", author_type="role", reply_to=question["id"])

        assert len(model.requests) == 4, "every question reached a model"
        by_question = {r.body["messages"][-1]["content"].rsplit("\n", 1)[-1]: r.body for r in model.requests}
        lawyer = by_question["@@lawyer may we sign?"]
        assert lawyer["model"] == "desk-model"
        assert "you answer as the role “lawyer”" in lawyer["messages"][-1]["content"]
        assert LAWYER_FIRST_LINE in lawyer["messages"][-1]["content"]
        assert "COACH-PROMPT: be encouraging." in by_question["@@coach we lost"]["messages"][-1]["content"]
        oracle = by_question["@@oracle rain?"]["messages"][-1]["content"]
        assert oracle.startswith("(In the group chat “Office” you answer as the role “oracle”.)"), oracle
        hr = by_question["@@hr my leave?"]
        assert hr["model"] == "hr-model", "an agent of the organisation by that name comes first"
        assert hr["messages"][-1]["content"] == "@@hr my leave?"
