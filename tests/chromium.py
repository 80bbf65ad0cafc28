"""Debian's Chromium driven by Playwright, as the browser tests (the report page, the face
studio) use it: one place for the binary, its flags and the errors a page must not show."""

from __future__ import annotations

import contextlib
import os

CHROMIUM = "/usr/bin/chromium"
# Without the networking flags Chromium's background services try the (absent) network.
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


@contextlib.contextmanager
def playwright():
    """Playwright's sync API, once Chromium is known to be installed."""
    assert os.path.exists(CHROMIUM), (
        f"{CHROMIUM} is missing: run scripts/install_browser.sh (make test does) to install "
        "Debian's chromium"
    )
    from playwright.sync_api import sync_playwright

    with sync_playwright() as driver:
        yield driver


def errors_of(page) -> list:
    """A list that fills with the page's console errors, page errors and failed requests."""
    errors = []
    page.on("console", lambda message: message.type == "error" and errors.append(message.text))
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.on("requestfailed", lambda request: errors.append(f"request failed: {request.url}"))
    return errors
