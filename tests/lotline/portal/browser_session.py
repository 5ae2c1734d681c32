"""A served portal and a real headless Chromium for end-to-end tests (test_browser.py, and the
officer's signing test in test_signing_browser.py).

    with serve(app) as base_url, chromium() as browser:
        page = browser.new_page(accept_downloads=True)
        log_in(page, base_url, name, password)

Debian's Chromium (`/usr/bin/chromium`) driven by Playwright's Python client; never a downloaded
browser. Screenshots go to `test-artifacts/` at the repository root.
"""

from __future__ import annotations

import os
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
import uvicorn
from fastapi import FastAPI

CHROMIUM = Path("/usr/bin/chromium")
ARTIFACTS = Path(__file__).resolve().parents[3] / "test-artifacts"
CHROMIUM_FLAGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]

if not CHROMIUM.exists() and os.environ.get("LOTLINE_REQUIRE_BROWSER") == "1":
    raise RuntimeError(
        f"a browser is required (LOTLINE_REQUIRE_BROWSER=1) but {CHROMIUM} is missing"
    )
needs_chromium = pytest.mark.skipif(
    not CHROMIUM.exists(), reason="Debian's chromium is not installed at /usr/bin/chromium"
)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextmanager
def serve(app: FastAPI) -> Iterator[str]:
    """`app` served by uvicorn on a free port of 127.0.0.1 in a thread: its base URL."""
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("uvicorn did not start")
        time.sleep(0.05)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)


@contextmanager
def chromium() -> Iterator[object]:
    """A headless Chromium (Playwright `Browser`). Playwright gives it a throw-away profile
    directory of its own (it refuses `--user-data-dir` with `launch`)."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(
            executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_FLAGS
        )
        try:
            yield browser
        finally:
            browser.close()


def log_in(page, base_url: str, name: str, password: str) -> None:  # type: ignore[no-untyped-def]
    """The login form filled in and sent, as a person would."""
    page.goto(f"{base_url}/login")
    page.fill("#name", name)
    page.fill("#password", password)
    page.click("button[type=submit]")
    page.wait_for_load_state()
    assert "/login" not in page.url, page.content()[:500]


def screenshot(page, name: str) -> Path:  # type: ignore[no-untyped-def]
    ARTIFACTS.mkdir(exist_ok=True)
    path = ARTIFACTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path
