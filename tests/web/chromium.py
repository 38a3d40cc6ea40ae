"""Debian's chromium for the browser tests: Playwright drives it, it never downloads a browser.

Without it the browser tests skip with the reason; under ``TEST_REQUIRE_SYSTEM_PACKAGES``
(CI sets it, and ``.ci/run`` installs chromium where it can) they fail instead, as the
sandbox's tests do without bubblewrap.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

REQUIRE_ENV = "TEST_REQUIRE_SYSTEM_PACKAGES"
CHROMIUM = Path("/usr/bin/chromium")
INSTALL_HINT = "install Debian's chromium: apt-get install chromium"


def require_chromium() -> str:
    """The path of Debian's chromium; skip (or, under ``TEST_REQUIRE_SYSTEM_PACKAGES``, fail)
    when it is not installed."""
    if not (CHROMIUM.is_file() and os.access(CHROMIUM, os.X_OK)):
        if os.environ.get(REQUIRE_ENV):
            pytest.fail(f"{CHROMIUM} is missing: {INSTALL_HINT} ({REQUIRE_ENV} is set, so the browser tests must run)")
        pytest.skip(f"{CHROMIUM} is missing: {INSTALL_HINT}")
    return str(CHROMIUM)
