"""Fixtures of the browser tests: a real ``agenthub serve``, Debian's chromium driven by
Playwright, a fresh user for each test, axe-core, and screenshots of failures.

- ``console_server``: one ``agenthub serve`` per test process (SQLite in its own data
  folder, the demo agent on, ``ADMIN_EMAIL``/``ADMIN_PASSWORD`` on ``.admin_email``
  ``.admin_password``). Tests share it, never its data: each registers its own user.
- ``browser`` (one per test module), ``page`` (a new context per test, 1280x800, whose
  ``base_url`` is the server: ``page.goto("/")``), ``phone_page`` (390x844, mobile, touch).
- ``api_user``: a new user and organisation (email, password, tokens); ``logged_in_page``:
  a ``page`` where that user logged in through the console's form.
- ``axe_check(page)``: fails listing axe-core's serious and critical violations.
- A test that fails leaves a PNG of each of its open pages in
  ``test-artifacts/web/<test name>.png``.

Mark every browser test ``@pytest.mark.browser`` (``-m "not browser"`` leaves them out).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Browser, BrowserContext, Page, Playwright, expect, sync_playwright

from tests.web.accessibility import axe_check as _axe_check
from tests.web.accounts import ApiUser, register_user
from tests.web.chromium import require_chromium
from tests.web.console_login import log_in
from tests.web.console_server import ConsoleServer
from tests.web.console_server import console_server as _console_server

ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "web"
DESKTOP = {"width": 1280, "height": 800}
PHONE = {"width": 390, "height": 844}
TIMEOUT_MS = 15_000
"""How long an action or an ``expect`` waits (a shared machine of two cores is slow at times)."""


@pytest.fixture(scope="session")
def console_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ConsoleServer]:
    require_chromium()  # no server for tests that can't run
    with _console_server(tmp_path_factory.mktemp("console")) as server:
        yield server


@pytest.fixture(scope="module")
def playwright() -> Iterator[Playwright]:
    """Module-scoped, not session-scoped: while Playwright's sync API is started, its event
    loop counts as running in this thread, and the asyncio tests that a pytest process (an
    xdist worker) runs after a browser module would fail; it stops when the module ends.
    So a browser test module holds no asyncio tests."""
    require_chromium()
    expect.set_options(timeout=TIMEOUT_MS)
    with sync_playwright() as instance:
        yield instance


@pytest.fixture(scope="module")
def browser(playwright: Playwright) -> Iterator[Browser]:
    """Debian's chromium, headless; Playwright downloads no browser."""
    instance = playwright.chromium.launch(executable_path=require_chromium(), headless=True)
    yield instance
    instance.close()


def _context(browser: Browser, server: ConsoleServer, **options: Any) -> BrowserContext:
    context = browser.new_context(base_url=server.url, locale="en-GB", **options)
    context.set_default_timeout(TIMEOUT_MS)
    return context


@pytest.fixture
def page(browser: Browser, console_server: ConsoleServer) -> Iterator[Page]:
    context = _context(browser, console_server, viewport=DESKTOP)
    yield context.new_page()
    context.close()


@pytest.fixture
def phone_page(browser: Browser, console_server: ConsoleServer) -> Iterator[Page]:
    context = _context(browser, console_server, viewport=PHONE, is_mobile=True, has_touch=True, device_scale_factor=3)
    yield context.new_page()
    context.close()


@pytest.fixture
def api_user(console_server: ConsoleServer) -> ApiUser:
    return register_user(console_server.url)


@pytest.fixture
def logged_in_page(page: Page, api_user: ApiUser) -> Page:
    log_in(page, api_user)
    return page


@pytest.fixture
def axe_check() -> Callable[..., None]:
    """``axe_check(page)`` (also ``tests.web.accessibility.axe_check``)."""
    return _axe_check


def _artifact_name(item: pytest.Item) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]+", "-", item.name).strip("-")


def _screenshot_open_pages(item: pytest.Item, report: pytest.TestReport) -> None:
    browser = item.funcargs.get("browser") if hasattr(item, "funcargs") else None
    if not isinstance(browser, Browser) or not browser.is_connected():
        return
    pages = [p for context in browser.contexts for p in context.pages if not p.is_closed()]
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    for index, open_page in enumerate(pages, start=1):
        suffix = "" if index == 1 else f"-{index}"
        path = ARTIFACTS / f"{_artifact_name(item)}{suffix}.png"
        try:
            open_page.screenshot(path=str(path), full_page=True, timeout=5_000)
        except Exception as error:  # noqa: BLE001 - a failed screenshot must not hide the failure
            report.sections.append(("screenshot", f"no screenshot of {open_page.url}: {error}"))
        else:
            report.sections.append(("screenshot", f"{open_page.url} -> {path}"))


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Iterator[None]:
    outcome = yield
    report = outcome.get_result()
    if report.failed and report.when in ("setup", "call"):
        _screenshot_open_pages(item, report)
