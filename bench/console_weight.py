"""What the web console's first load costs the browser: `agenthub serve` (embedded) and
Debian's chromium (Playwright), logged in, opening each area cold (a new browser context,
so nothing cached). Per area: the JavaScript, CSS and everything else the page fetched,
as sent (compressed) and unpacked, and the number of requests. The target: under 300 KB of
compressed JavaScript for the chat.

    .venv/bin/python bench/console_weight.py [--areas chat,agents,bots,usage,settings]
"""

from __future__ import annotations

import argparse
import sys
from collections import defaultdict
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _harness import OWNER_EMAIL, OWNER_PASSWORD, agenthub, machine  # noqa: E402

CHROMIUM = "/usr/bin/chromium"
TARGET_CHAT_JS = 300 * 1024


def _kind(url: str, resource_type: str) -> str:
    if resource_type == "script" or url.endswith(".js"):
        return "js"
    if resource_type == "stylesheet":
        return "css"
    return "other"


def weigh(base_url: str, area: str) -> dict[str, dict[str, int]]:
    from playwright.sync_api import sync_playwright

    sent: dict[str, dict[str, int]] = defaultdict(lambda: {"sent": 0, "unpacked": 0, "requests": 0})
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM)
        try:
            # Cold but logged in: a new context (empty cache) holding the owner's tokens.
            context = browser.new_context(base_url=base_url, storage_state=_logged_in(base_url))
            page = context.new_page()
            responses: list = []
            page.on("requestfinished", lambda request: responses.append(request))
            page.goto(f"/#/{area}")
            page.get_by_role("button", name="Log out").wait_for()
            page.wait_for_load_state("networkidle")
            for request in responses:
                if not request.url.startswith(base_url) or "/api/" in request.url:
                    continue
                response = request.response()
                sizes = request.sizes()
                row = sent[_kind(request.url, request.resource_type)]
                row["sent"] += sizes["responseBodySize"]
                row["unpacked"] += len(response.body()) if response is not None else 0
                row["requests"] += 1
        finally:
            browser.close()
    return dict(sent)


def _logged_in(base_url: str) -> dict:
    """A logged-in browser state: tokens for the owner, in local storage."""
    import json

    import httpx

    pair = httpx.post(f"{base_url}/api/v1/auth/login", json={"email": OWNER_EMAIL, "password": OWNER_PASSWORD}).json()
    pair["expires_at"] = 4102444800000
    return {"cookies": [], "origins": [{"origin": base_url, "localStorage": [
        {"name": "agenthub.tokens", "value": json.dumps(pair)}]}]}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--areas", default="chat,agents,bots,usage,settings")
    args = parser.parse_args()
    print(f"machine: {machine()}")
    with agenthub(redis_url=None, database_url=None) as server:
        print("| area | JS sent (KB) | JS unpacked (KB) | CSS sent (KB) | other sent (KB) | requests |")
        print("|---|---|---|---|---|---|")
        chat_js = 0
        for area in args.areas.split(","):
            weights = weigh(server.url, area)
            js, css, other = (weights.get(kind, {"sent": 0, "unpacked": 0, "requests": 0}) for kind in ("js", "css", "other"))
            requests = js["requests"] + css["requests"] + other["requests"]
            print(f"| {area} | {js['sent'] / 1024:.1f} | {js['unpacked'] / 1024:.1f} | {css['sent'] / 1024:.1f} "
                  f"| {other['sent'] / 1024:.1f} | {requests} |")
            if area == "chat":
                chat_js = js["sent"]
        if chat_js:
            verdict = "met" if chat_js < TARGET_CHAT_JS else "NOT met"
            print(f"chat's first load: {chat_js / 1024:.1f} KB of compressed JavaScript (target < 300 KB: {verdict})")


if __name__ == "__main__":
    main()
