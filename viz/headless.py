"""Look at pages in a real headless Chromium, over the DevTools protocol.

Used by the end-to-end tests and ``bench/page_load.py`` to check and time what a
user would see. Needs Debian's ``chromium`` and the ``websocket-client`` package
(test extras). Only loopback is ever contacted, and Chromium's own background
networking is switched off.
"""

from __future__ import annotations

import base64
import itertools
import json
import os
import shutil
import socket
import subprocess
import tempfile
import threading
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from types import TracebackType
from typing import Any

CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
FLAGS = (
    "--headless",
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


class BrowserError(RuntimeError):
    """Chromium did not start, or a page did not do what was expected in time."""


def chromium_path() -> str | None:
    """The Chromium executable, or ``None`` when it is not installed."""
    found = shutil.which(CHROMIUM)
    return found


class Chromium:
    """A headless Chromium with a fresh profile, driven over one DevTools page target.

    Use as a context manager; the browser and its profile are removed on exit.
    """

    def __init__(self, width: int = 1280, height: int = 900, start_timeout: float = 30.0) -> None:
        self.width, self.height = width, height
        self.start_timeout = start_timeout
        self._profile: str | None = None
        self._process: subprocess.Popen[bytes] | None = None
        self._socket: Any = None
        self._ids = itertools.count(1)
        self._events: list[dict[str, Any]] = []

    def __enter__(self) -> Chromium:
        try:
            self.start()
        except BaseException:
            self.close()
            raise
        return self

    def __exit__(
        self, _type: type[BaseException] | None, _value: BaseException | None, _tb: TracebackType | None
    ) -> None:
        self.close()

    def start(self) -> None:
        import websocket  # websocket-client, a test extra

        executable = chromium_path()
        if executable is None:
            raise BrowserError(f"Chromium not found at {CHROMIUM} (apt-get install chromium)")
        self._profile = tempfile.mkdtemp(prefix="viz-chromium-")
        self._process = subprocess.Popen(
            [
                executable,
                *FLAGS,
                f"--user-data-dir={self._profile}",
                f"--window-size={self.width},{self.height}",
                "--remote-debugging-address=127.0.0.1",
                "--remote-debugging-port=0",
                "about:blank",
            ],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        port_file = Path(self._profile) / "DevToolsActivePort"
        deadline = time.monotonic() + self.start_timeout
        while not (port_file.exists() and port_file.read_text().strip()):
            if self._process.poll() is not None:
                raise BrowserError(f"Chromium exited with {self._process.returncode} before it was ready")
            if time.monotonic() > deadline:
                raise BrowserError(f"Chromium gave no DevTools port within {self.start_timeout} s")
            time.sleep(0.05)
        port = int(port_file.read_text().split()[0])
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/json/list", timeout=10) as answer:
            targets = json.load(answer)
        page = next((t for t in targets if t.get("type") == "page"), None)
        if page is None:
            raise BrowserError("Chromium has no page target")
        # DevTools refuses sockets that send an Origin header unless allowed by a flag.
        self._socket = websocket.create_connection(page["webSocketDebuggerUrl"], timeout=60, suppress_origin=True)
        self.send("Page.enable")
        self.send("Runtime.enable")

    def close(self) -> None:
        if self._socket is not None:
            try:
                self._socket.close()
            finally:
                self._socket = None
        if self._process is not None:
            self._process.terminate()
            try:
                self._process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self._process.kill()
                self._process.wait(timeout=10)
            self._process = None
        if self._profile is not None:
            shutil.rmtree(self._profile, ignore_errors=True)
            self._profile = None

    def send(self, method: str, **params: Any) -> dict[str, Any]:
        """Call a DevTools method and return its result (events arriving meanwhile are kept)."""
        if self._socket is None:
            raise BrowserError("Chromium is not running")
        message_id = next(self._ids)
        self._socket.send(json.dumps({"id": message_id, "method": method, "params": params}))
        while True:
            message = json.loads(self._socket.recv())
            if "method" in message:
                self._events.append(message)
                continue
            if message.get("id") != message_id:
                continue
            if "error" in message:
                raise BrowserError(f"{method}: {message['error'].get('message')}")
            result: dict[str, Any] = message.get("result", {})
            return result

    def navigate(self, url: str, timeout: float = 60.0) -> None:
        """Open a URL and wait for its load event, so later checks see the new page, not the old one."""
        self._events.clear()
        answer = self.send("Page.navigate", url=url)
        if answer.get("errorText"):
            raise BrowserError(f"cannot open {url}: {answer['errorText']}")
        deadline = time.monotonic() + timeout
        while not any(event["method"] == "Page.loadEventFired" for event in self._events):
            if time.monotonic() > deadline:
                raise BrowserError(f"{url} did not finish loading within {timeout} s")
            self._socket.settimeout(max(0.1, deadline - time.monotonic()))
            try:
                message = json.loads(self._socket.recv())
            except Exception as exc:  # websocket-client raises its own timeout type
                raise BrowserError(f"{url} did not finish loading within {timeout} s") from exc
            finally:
                self._socket.settimeout(60)
            if "method" in message:
                self._events.append(message)

    def evaluate(self, expression: str) -> Any:
        """The JSON value of a JavaScript expression in the page."""
        answer = self.send("Runtime.evaluate", expression=expression, returnByValue=True, awaitPromise=True)
        if "exceptionDetails" in answer:
            details = answer["exceptionDetails"]
            text = details.get("exception", {}).get("description") or details.get("text")
            raise BrowserError(f"{expression!r} raised {text}")
        return answer.get("result", {}).get("value")

    def wait_for(self, expression: str, timeout: float = 30.0, interval: float = 0.05) -> Any:
        """Poll until the expression is truthy; return its value."""
        deadline = time.monotonic() + timeout
        last_error: BrowserError | None = None
        while True:
            try:
                value = self.evaluate(expression)
            except BrowserError as exc:  # e.g. the page is between two documents
                value, last_error = None, exc
            if value:
                return value
            if time.monotonic() > deadline:
                detail = f" (last error: {last_error})" if last_error else ""
                raise BrowserError(f"{expression!r} still false after {timeout} s{detail}")
            time.sleep(interval)

    def screenshot(self, path: str | Path) -> Path:
        """Save a PNG of the viewport."""
        answer = self.send("Page.captureScreenshot", format="png")
        target = Path(path)
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(base64.b64decode(answer["data"]))
        return target


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
