"""Open a page in Debian's Chromium through Playwright, with every network request refused.

Playwright drives the system browser (``/usr/bin/chromium``); nothing is downloaded. Off CI a machine
without Chromium skips the browser check; in CI (``CI=true``) it fails, since ``.ci/run`` installs it.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path
from typing import Any

import pytest

CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def chromium_path() -> str:
    path = shutil.which("chromium")
    if path is None:
        if os.environ.get("CI") == "true":
            pytest.fail("Debian's chromium is not installed in CI")
        pytest.skip("Debian's chromium is not installed")
    return path


def render_offline(page_path: Path, ready_js: str, probe_js: str, screenshot: Path | None = None) -> Any:
    """Load ``page_path`` with the network cut off, wait for ``ready_js``, return ``probe_js``'s value.

    Any request that is not for the file itself is aborted and reported, so a page that needs the
    network to draw fails here.
    """
    from playwright.sync_api import sync_playwright

    executable = chromium_path()
    outside: list[str] = []
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=executable, args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(viewport={"width": 1280, "height": 900})
            page.route(
                "**/*",
                lambda route: (
                    route.continue_()
                    if route.request.url.startswith("file:")
                    else (outside.append(route.request.url), route.abort())
                ),
            )
            page.goto(page_path.resolve().as_uri())
            page.wait_for_function(ready_js, timeout=60_000)
            result = page.evaluate(probe_js)
            if screenshot is not None:
                page.screenshot(path=str(screenshot), full_page=False)
        finally:
            browser.close()
    assert not outside, f"the page asked the network for {outside[:3]}"
    return result
