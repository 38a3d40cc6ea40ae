"""What a bot builder reads when their code fails, and Python they write every day."""

from __future__ import annotations

import pytest

from agenthub.sandbox import SandboxPool

pytestmark = pytest.mark.asyncio(loop_scope="module")

SUBCLASS = """
class Base:
    def __init__(self, name):
        self.name = name

class Child(Base):
    def __init__(self, name, age):
        super().__init__(name)
        self.age = age

def main(message, variables):
    child = Child("Ann", 3)
    return {"name": child.name, "age": child.age}
"""


async def test_a_subclass_calls_its_parent_initialiser(pool: SandboxPool) -> None:
    result = await pool.run(SUBCLASS)

    assert result.ok, result
    assert result.value == {"name": "Ann", "age": 3}


async def test_init_is_reached_through_a_real_super_only(pool: SandboxPool) -> None:
    shadowed = SUBCLASS.replace("        super().__init__(name)", "        super = lambda: Base\n        super().__init__(name)")
    result = await pool.run(shadowed)

    assert result.error is not None and result.error.kind == "forbidden"
    assert result.error.line == 9

    after = await pool.run("def main(message, variables):\n    return {'ok': True}\n")
    assert after.ok


async def test_restriction_messages_name_the_line_once_and_not_the_library(pool: SandboxPool) -> None:
    result = await pool.run("def main(message, variables):\n    a = ().__class__\n    b = message.__dict__\n    return {}\n")

    assert result.error is not None and result.error.kind == "forbidden" and result.error.line == 2
    assert result.error.message == (
        'line 2: "__class__" is an invalid attribute name because it starts with "_"; '
        'line 3: "__dict__" is an invalid attribute name because it starts with "_"'
    )
    single = await pool.run("def main(message, variables):\n    return {'f': message.gi_frame}\n")
    assert single.error is not None and single.error.line == 2
    assert not single.error.message.startswith("Line") and "RestrictedPython" not in single.error.message


async def test_a_null_byte_in_the_code_is_a_syntax_error(pool: SandboxPool) -> None:
    result = await pool.run("def main(message, variables):\n    return {}\x00\n")

    assert result.error is not None and result.error.kind == "syntax"
    assert result.error.message == "SyntaxError: source code string cannot contain null bytes"


@pytest.mark.parametrize("value", ["float('nan')", "float('inf')", "-float('inf')"])
async def test_not_a_number_or_infinity_in_the_value_is_not_json(pool: SandboxPool, value: str) -> None:
    result = await pool.run(f"def main(message, variables):\n    return {{'n': {value}}}\n")

    assert result.error is not None and result.error.kind == "exception"
    assert "not JSON" in result.error.message


async def test_a_byte_order_mark_before_the_code_is_ignored(pool: SandboxPool) -> None:
    result = await pool.run("\ufeffdef main(message, variables):\n    return {'ok': 1}\n")

    assert result.ok and result.value == {"ok": 1}
