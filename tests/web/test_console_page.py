"""The console's page and assets over HTTP (no browser): the page's Content-Security-Policy
admits its one inline script (the import map) and nothing from another site; every script,
style and library it names loads, compressed; every module a script imports exists; the
assets are never throttled by the anonymous rate limit; every vendored file is recorded with
its version and licence."""

from __future__ import annotations

import base64
import hashlib
import re
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest

from agenthub.web import STATIC
from agenthub.web.page import IMPORT_MAP
from tests.support.server import OWNER_EMAIL, RunningApp, make_settings, running_app

IMPORT = re.compile(r"""(?:\bfrom\s*|\bimport\s*\(?\s*)['"](\.{1,2}/[^'"]+)['"]""")
ASSET = re.compile(r'(?:href|src)="(console/[^"]+)"')


@pytest.fixture
async def server(sqlite_url: str) -> AsyncIterator[RunningApp]:
    settings = make_settings(database_url=sqlite_url, rate_limit_anonymous_per_minute=3)
    async with running_app(settings) as app:
        yield app


async def test_the_page_carries_a_strict_policy_that_admits_only_its_import_map(server: RunningApp) -> None:
    async with httpx.AsyncClient(base_url=server.url) as client:
        page = await client.get("/")
    assert page.status_code == 200
    assert page.headers["content-type"].startswith("text/html")
    policy = page.headers["content-security-policy"]
    import_map = IMPORT_MAP.search(page.text)
    assert import_map is not None
    digest = base64.b64encode(hashlib.sha256(import_map.group(1).encode()).digest()).decode()
    assert f"script-src 'self' 'sha256-{digest}'" in policy
    assert "unsafe-inline" not in policy and "unsafe-eval" not in policy
    assert "frame-ancestors 'none'" in policy and "object-src 'none'" in policy
    assert '<base href="/">' in page.text
    # The embedded server tells a new user whom to log in as, never the password.
    assert f'content="{OWNER_EMAIL}"' in page.text
    assert "owner-password" not in page.text
    # No address of another site anywhere in the page.
    assert not re.search(r'(?:href|src)="(?:https?:)?//', page.text)


async def test_every_asset_the_page_names_loads_compressed_and_is_never_throttled(server: RunningApp) -> None:
    async with httpx.AsyncClient(base_url=server.url, headers={"Accept-Encoding": "gzip"}) as client:
        page = (await client.get("/")).text
        assets = ASSET.findall(page)
        assert "console/js/main.js" in assets and len(assets) >= 8
        # More requests than the anonymous limit (3 a minute) allows: assets are not counted.
        for path in assets * 2:
            answer = await client.get("/" + path)
            assert answer.status_code == 200, path
            assert answer.headers["x-content-type-options"] == "nosniff"
            assert answer.headers["cache-control"] == "no-cache"
            if path.endswith(".js"):
                assert answer.headers["content-type"].startswith(("text/javascript", "application/javascript"))
        library = await client.get("/console/vendor/marked.esm.js")
        assert library.headers["content-encoding"] == "gzip"
        assert int(library.headers["content-length"]) < len(library.content) / 2
        # Revalidation: the same file unchanged is a 304.
        again = await client.get("/console/vendor/marked.esm.js", headers={"If-None-Match": library.headers["etag"]})
        assert again.status_code == 304
        # The API stays limited for anonymous callers.
        statuses = [(await client.post("/api/v1/auth/login", json={"email": "x@example.com", "password": "x"})).status_code
                    for _ in range(4)]
        assert statuses[-1] == 429


async def test_nothing_outside_the_assets_folder_is_served(server: RunningApp) -> None:
    async with httpx.AsyncClient(base_url=server.url) as client:
        for path in ("/console/../web/page.py", "/console/%2e%2e/page.py", "/console/js/missing.js"):
            answer = await client.get(path)
            assert answer.status_code == 404, path


def _scripts() -> list[Path]:
    return sorted((STATIC / "js").rglob("*.js"))


@pytest.mark.parametrize("script", _scripts(), ids=lambda path: str(path.relative_to(STATIC)))
def test_every_module_a_script_imports_exists(script: Path) -> None:
    for target in IMPORT.findall(script.read_text(encoding="utf-8")):
        assert (script.parent / target).resolve().is_file(), f"{script.name} imports {target}, which does not exist"


def test_every_vendored_file_is_recorded_with_its_version_and_licence() -> None:
    vendor = STATIC / "vendor"
    record = (vendor / "VENDOR.md").read_text(encoding="utf-8")
    files = [path.name for path in vendor.iterdir() if path.is_file() and path.name != "VENDOR.md"]
    assert files
    for name in files:
        line = next((row for row in record.splitlines() if row.startswith(f"| {name} |")), None)
        assert line is not None, f"{name} is not listed in VENDOR.md"
        package = line.split("|")[2].split("(")[0].strip()
        assert re.search(r"\| \d+\.\d+\.\d+ \|", line), f"{name}: no version"
        assert (vendor / "licenses" / f"{package}.txt").is_file(), f"{name}: no licence file for {package}"
