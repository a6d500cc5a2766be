"""Headless Chromium for the checks of what a person sees: the HTML report, the docs site, the Dagster UI.

Talks to Chromium over the DevTools protocol on a pipe (``--remote-debugging-pipe``), so it needs no driver
package, only a Chromium binary (Debian: ``apt-get install chromium``; ``.ci/run`` installs it). Chromium's
own background traffic (component updates, safe browsing, sync) is switched off: on a closed network it
would only fail, and nothing here should reach past loopback.
"""

from __future__ import annotations

import base64
import contextlib
import json
import os
import queue
import shutil
import subprocess
import tempfile
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

BROWSERS = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")
# Requests that never leave the browser.
LOCAL_SCHEMES = ("file:", "data:", "blob:", "about:")
LOOPBACK_PREFIXES = ("http://127.0.0.1:", "http://localhost:", "ws://127.0.0.1:", "ws://localhost:")


def find_browser() -> str | None:
    return next((path for name in BROWSERS if (path := shutil.which(name))), None)


class _DevTools:
    """A minimal DevTools-protocol client over Chromium's pipe (fd 3 in, fd 4 out, NUL-separated JSON)."""

    def __init__(self, browser: str, profile: Path) -> None:
        to_chrome_r, self._to_chrome = os.pipe()
        self._from_chrome, from_chrome_w = os.pipe()

        def _fds() -> None:  # in the child: the pipe ends where Chromium expects them, fds 3 and 4
            # Copied aside first: either end may itself be fd 3 or 4.
            reader, writer = os.dup(to_chrome_r), os.dup(from_chrome_w)
            os.dup2(reader, 3)
            os.dup2(writer, 4)

        args = [
            browser, "--headless=new", "--remote-debugging-pipe", "--no-first-run",
            "--no-default-browser-check", "--disable-gpu", "--hide-scrollbars", "--mute-audio",
            "--disable-background-networking", "--disable-component-update", "--disable-sync",
            "--disable-quic", f"--user-data-dir={profile}",
        ]  # fmt: skip
        if hasattr(os, "geteuid") and os.geteuid() == 0:
            args.append("--no-sandbox")  # Chromium refuses to run as root with its sandbox
        self.process = subprocess.Popen(  # noqa: S603 (a fixed argv)
            args, preexec_fn=_fds, pass_fds=(3, 4),
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )  # fmt: skip
        os.close(to_chrome_r)
        os.close(from_chrome_w)
        self._next_id = 0
        self._messages: queue.Queue[dict] = queue.Queue()
        self.events: list[dict] = []
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        buffer = b""
        while chunk := os.read(self._from_chrome, 1 << 16):
            buffer += chunk
            *messages, buffer = buffer.split(b"\0")
            for message in messages:
                self._messages.put(json.loads(message))

    def send(
        self, method: str, params: dict | None = None, session: str | None = None, timeout: float = 30
    ) -> dict:
        self._next_id += 1
        message: dict[str, Any] = {"id": self._next_id, "method": method, "params": params or {}}
        if session:
            message["sessionId"] = session
        os.write(self._to_chrome, json.dumps(message).encode() + b"\0")
        deadline = time.monotonic() + timeout
        while True:
            reply = self._messages.get(timeout=max(0.1, deadline - time.monotonic()))
            if reply.get("id") == self._next_id:
                if "error" in reply:
                    raise RuntimeError(f"{method}: {reply['error']}")
                return reply.get("result", {})
            self.events.append(reply)

    def wait_for(self, method: str, timeout: float = 30) -> None:
        deadline = time.monotonic() + timeout
        while not any(event.get("method") == method for event in self.events):
            self.events.append(self._messages.get(timeout=max(0.1, deadline - time.monotonic())))

    def drain(self, seconds: float) -> None:
        deadline = time.monotonic() + seconds
        while (left := deadline - time.monotonic()) > 0:
            try:
                self.events.append(self._messages.get(timeout=left))
            except queue.Empty:
                return

    def close(self) -> None:
        with contextlib.suppress(RuntimeError, queue.Empty, OSError):
            self.send("Browser.close", timeout=5)
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        for fd in (self._to_chrome, self._from_chrome):
            os.close(fd)


class Tab:
    """One page in headless Chromium, with what it logged and requested since it opened."""

    def __init__(self, tools: _DevTools, width: int, height: int) -> None:
        self._tools = tools
        target = tools.send("Target.createTarget", {"url": "about:blank"})["targetId"]
        attached = tools.send("Target.attachToTarget", {"targetId": target, "flatten": True})
        self._session = attached["sessionId"]
        for domain in ("Runtime", "Log", "Network", "Page"):
            self.send(f"{domain}.enable")
        self._metrics = {"width": width, "height": height, "deviceScaleFactor": 1, "mobile": False}
        self.send("Emulation.setDeviceMetricsOverride", self._metrics)

    def send(self, method: str, params: dict | None = None) -> dict:
        return self._tools.send(method, params, session=self._session)

    def load(self, url: str, settle: float = 0) -> None:
        """Open ``url``, wait for its load event, then ``settle`` seconds for late errors and requests."""
        self.send("Page.navigate", {"url": url})
        self._tools.wait_for("Page.loadEventFired")
        self._tools.drain(settle)

    def evaluate(self, expression: str) -> Any:
        result = self.send("Runtime.evaluate", {"expression": expression, "returnByValue": True})
        return result["result"]["value"]

    def text(self) -> str:
        """The page's text as a person reads it (``innerText``: what is rendered, in reading order)."""
        return self.evaluate("document.body ? document.body.innerText : ''")

    def wait_for_text(self, *needles: str, timeout: float = 60) -> str:
        """The page's text once it shows every one of ``needles`` (a script-built page renders after load);
        AssertionError with what it showed instead when ``timeout`` passes first."""
        deadline = time.monotonic() + timeout
        while True:
            shown = self.text()
            missing = [needle for needle in needles if needle not in shown]
            if not missing:
                return shown
            if time.monotonic() > deadline:
                raise AssertionError(f"the page never showed {missing}; it showed: {shown[:2000]!r}")
            self._tools.drain(0.5)

    def height(self) -> int:
        return int(self.send("Page.getLayoutMetrics")["cssContentSize"]["height"])

    def screenshot(self, path: Path, height: int | None = None) -> None:
        """A PNG of the page's top ``height`` pixels (default: the whole page)."""
        page_height = self.height()
        clip_height = min(page_height, height or page_height)
        self.send("Emulation.setDeviceMetricsOverride", {**self._metrics, "height": clip_height})
        self._tools.drain(1.0)  # responsive content re-lays out to the new viewport
        clip = {"x": 0, "y": 0, "width": self._metrics["width"], "height": clip_height, "scale": 1}
        shot = self.send("Page.captureScreenshot", {"format": "png", "clip": clip})
        path.write_bytes(base64.b64decode(shot["data"]))

    def console_errors(self) -> list[str]:
        errors = []
        for event in self._tools.events:
            method, params = event.get("method"), event.get("params", {})
            if method == "Runtime.consoleAPICalled" and params.get("type") in {"error", "assert"}:
                errors.append(
                    " ".join(str(arg.get("value", arg.get("description", ""))) for arg in params["args"])
                )
            elif method == "Runtime.exceptionThrown":
                details = params["exceptionDetails"]
                thrown = details.get("exception", {}).get("description")
                errors.append(thrown or details.get("text", "exception"))
            elif method == "Log.entryAdded" and params["entry"]["level"] == "error":
                errors.append(f"{params['entry']['source']}: {params['entry']['text']}")
        return errors

    def requests(self, *, beyond: tuple[str, ...] = LOCAL_SCHEMES) -> list[str]:
        """The URLs the page requested that start with none of ``beyond``."""
        return [
            event["params"]["request"]["url"]
            for event in self._tools.events
            if event.get("method") == "Network.requestWillBeSent"
            and not event["params"]["request"]["url"].startswith(beyond)
        ]


@contextlib.contextmanager
def open_tab(browser: str | None = None, *, width: int = 1280, height: int = 900) -> Iterator[Tab]:
    """A tab in a new headless Chromium with a throw-away profile, closed (browser and all) on exit."""
    browser = browser or find_browser()
    if browser is None:
        raise FileNotFoundError("no Chromium found: apt-get install chromium")
    with tempfile.TemporaryDirectory(prefix="seatwatch-chromium-") as profile:
        tools = _DevTools(browser, Path(profile))
        try:
            yield Tab(tools, width, height)
        finally:
            tools.close()
