"""Pages in a real headless Chromium (Debian's ``/usr/bin/chromium``) driven by Playwright, for the
browser tests and the page benchmarks; and the API served on a loopback port for them.

Playwright (a test extra) drives the system's Chromium: ``playwright install`` is never run. Only
the service is reachable from a page :func:`offline_page` opens: any other address is refused and
recorded, and so is anything the page's Content-Security-Policy had to block, so that a test fails
when a page tries to reach outside the service.
"""

from __future__ import annotations

import os
import shutil
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
FLAGS = (
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-dev-shm-usage",
    "--hide-scrollbars",
    "--mute-audio",
)
#: The viewport of every page: the screen the issue's "first screen" and screenshots are judged on.
VIEWPORT = {"width": 1400, "height": 900}


class BrowserError(RuntimeError):
    """The service did not start for the browser."""


def chromium_path() -> str | None:
    """The Chromium executable, or ``None`` when it is not installed."""
    return shutil.which(CHROMIUM)


def missing() -> list[str]:
    """What the browser tests need and do not find (empty when they can run)."""
    needed = []
    if chromium_path() is None:
        needed.append(f"Chromium ({CHROMIUM}: apt-get install chromium)")
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        needed.append("the playwright package (test extras)")
    return needed


@contextmanager
def chromium() -> Iterator[Any]:
    """A headless Chromium (Playwright's ``Browser``), closed on exit."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=chromium_path(), args=list(FLAGS))
        try:
            yield browser
        finally:
            browser.close()


@contextmanager
def offline_page(browser: Any, base_url: str | None = None) -> Iterator[tuple[Any, list[str]]]:
    """A fresh page that reaches only ``base_url`` (and ``file:``, ``data:`` and ``blob:`` addresses).

    Yields ``(page, elsewhere)``: ``elsewhere`` lists every address the page tried to reach outside
    them (refused), and every request the page's Content-Security-Policy blocked.
    """
    context = browser.new_context(viewport=VIEWPORT, accept_downloads=True)
    elsewhere: list[str] = []
    local = ("data:", "blob:", "file:", *((base_url,) if base_url else ()))

    def guard(route: Any) -> None:
        if route.request.url.startswith(local):
            route.continue_()
        else:
            elsewhere.append(route.request.url)
            route.abort()

    def console(message: Any) -> None:
        if "Content Security Policy" in message.text:
            elsewhere.append(message.text)

    context.route("**/*", guard)
    page = context.new_page()
    page.on("console", console)
    page.set_default_timeout(60_000)
    try:
        yield page, elsewhere
    finally:
        context.close()


@contextmanager
def serving(app: Any, start_timeout: float = 30.0) -> Iterator[str]:
    """Run an ASGI app with uvicorn on a free loopback port in a thread; yield its base URL."""
    import uvicorn

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = int(probe.getsockname()[1])
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, name=f"api-{port}", daemon=True)
    thread.start()
    deadline = time.monotonic() + start_timeout
    try:
        while not server.started:
            if not thread.is_alive() or time.monotonic() > deadline:
                raise BrowserError(f"the app did not start on 127.0.0.1:{port}")
            time.sleep(0.05)
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=15)
