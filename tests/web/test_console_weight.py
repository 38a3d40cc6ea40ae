"""The chat's first load stays light: opened cold (a new browser context, nothing cached)
by a logged-in user, the chat area fetches under 300 KB of compressed JavaScript, and the
bot constructor's graph library is not among it (it loads only in the constructor).
(A size, not a time: bench/console_weight.py reports every area's weight.)"""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, Request, expect

pytestmark = pytest.mark.browser

CHAT_JS_LIMIT = 300 * 1024


def test_the_chat_loads_under_300_kb_of_compressed_javascript(logged_in_page: Page) -> None:
    # A new context (an empty cache) holding the same login.
    login = logged_in_page.context.storage_state()
    browser = logged_in_page.context.browser
    assert browser is not None
    context = browser.new_context(base_url=logged_in_page.url.split("/#")[0].rstrip("/"), storage_state=login)
    cold = context.new_page()
    finished: list[Request] = []
    cold.on("requestfinished", lambda request: finished.append(request))
    cold.goto("/#/chat")
    expect(cold.get_by_role("button", name="Log out")).to_be_visible()
    cold.wait_for_load_state("networkidle")
    scripts = [request for request in finished if request.resource_type == "script"]
    assert scripts, "no script was loaded"
    sent = sum(request.sizes()["responseBodySize"] for request in scripts)
    assert sent < CHAT_JS_LIMIT, f"{sent / 1024:.0f} KB of JavaScript for the chat"
    assert not [request.url for request in scripts if "cytoscape" in request.url]
    for request in scripts:
        response = request.response()
        assert response is not None and response.status == 200, request.url  # nothing came from a cache
        if "vendor/" in request.url:
            assert response.headers.get("content-encoding") == "gzip", request.url
    context.close()
