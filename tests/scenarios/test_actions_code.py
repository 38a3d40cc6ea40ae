"""``code`` groups: ``main(message, variables)`` runs in the real sandbox; its dict is the
result, and an error or a limit hit is an error result naming the kind and the line."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest_asyncio

from agenthub.sandbox.service import SandboxService
from agenthub.sandbox.settings import pool_config
from agenthub.scenarios.actions.base import ActionCall
from agenthub.scenarios.actions.code import LazySandbox
from agenthub.scenarios.actions.registry import run_action
from agenthub.scenarios.variables import Scopes
from tests.scenarios.action_helpers import call, deps, settings

SUM = '''
async def main(message, variables):
    total = int(message["text"]) + variables["session"]["base"]
    return {"total": total, "shop": variables["bot"]["shop"]}
'''
FAILS = '''
def main(message, variables):
    x = 1
    return {"r": x / 0}
'''
LOOPS = '''
def main(message, variables):
    while True:
        pass
'''


@pytest_asyncio.fixture
async def sandbox() -> AsyncIterator[SandboxService]:
    service = SandboxService(pool_config(settings(sandbox_pool_size=1, sandbox_max_wall_seconds=1.0,
                                                  sandbox_max_cpu_seconds=1.0)), report=False)
    await service.start()
    assert service.status == "ready", service.error
    yield service
    await service.close()


def code_call(code: str) -> ActionCall:
    return call({"search_type": "code", "code": code},
                scopes=Scopes(bot={"shop": "Luigi"}, session={"base": 40}, message={"text": "2"}))


async def test_main_gets_the_message_and_variables_and_its_dict_is_the_result(sandbox: SandboxService) -> None:
    assert await run_action(code_call(SUM), deps(sandbox=sandbox)) == {"total": 42, "shop": "Luigi"}


async def test_an_exception_names_its_kind_and_line(sandbox: SandboxService) -> None:
    result = await run_action(code_call(FAILS), deps(sandbox=sandbox))
    assert result["error"].startswith("exception at line 4: ")
    assert "division by zero" in result["error"]


async def test_a_syntax_error_a_forbidden_import_and_a_limit_hit(sandbox: SandboxService) -> None:
    syntax = await run_action(code_call("def main(message, variables)\n    return {}"), deps(sandbox=sandbox))
    assert syntax["error"].startswith("syntax at line 1")
    forbidden = await run_action(code_call("import os\ndef main(m, v):\n    return {}"), deps(sandbox=sandbox))
    assert forbidden["error"].startswith("forbidden")
    looping = await run_action(code_call(LOOPS), deps(sandbox=sandbox))
    assert looping["error"].startswith("timeout")


async def test_without_a_sandbox_a_code_step_is_an_error() -> None:
    assert await run_action(code_call(SUM), deps()) == {
        "error": "code steps cannot run here: no sandbox in this process"
    }


async def test_a_lazy_sandbox_starts_on_the_first_code_step_and_closes() -> None:
    lazy = LazySandbox(settings(sandbox_pool_size=1))
    assert not lazy.started
    try:
        assert await run_action(code_call(SUM), deps(sandbox=lazy)) == {"total": 42, "shop": "Luigi"}
        assert lazy.started
    finally:
        await lazy.close()
    assert not lazy.started
