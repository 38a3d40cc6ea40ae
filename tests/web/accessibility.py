"""axe-core (shipped in ``axe-playwright-python``, no network) run in a page: a test fails
on any violation of impact serious or critical, each listed with the elements it found."""

from __future__ import annotations

from typing import Any

from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import Page

FAILING_IMPACTS = frozenset({"serious", "critical"})


def serious_violations(page: Page, *, context: str | None = None) -> list[dict[str, Any]]:
    """axe-core's violations of impact serious or critical in ``page`` (or in the part of
    it that the CSS selector ``context`` names)."""
    results = Axe().run(page, context=context)
    return [v for v in results.response["violations"] if v.get("impact") in FAILING_IMPACTS]


def describe(violations: list[dict[str, Any]]) -> str:
    lines = []
    for violation in violations:
        lines.append(f"{violation['id']} ({violation['impact']}): {violation['help']} - {violation['helpUrl']}")
        for node in violation["nodes"][:5]:
            lines.append(f"    {' '.join(map(str, node['target']))}: {node.get('failureSummary', '').strip()}")
        if len(violation["nodes"]) > 5:
            lines.append(f"    ... and {len(violation['nodes']) - 5} more")
    return "\n".join(lines)


def axe_check(page: Page, *, context: str | None = None) -> None:
    """Fail, listing them, when axe-core finds serious or critical violations in ``page``."""
    violations = serious_violations(page, context=context)
    assert not violations, f"axe-core found {len(violations)} serious or critical violations:\n{describe(violations)}"
