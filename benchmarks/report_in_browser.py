"""Open the HTML report in headless Chromium: no console error, no network request, every chart drawn.

Talks to Chromium over the DevTools protocol on a pipe (``--remote-debugging-pipe``), so it needs no driver
package, only a Chromium binary (``apt-get install chromium``). The test suite runs the same check on the
demo org's report (``tests/analyst/test_report.py``, skipped without a browser); this script also writes the
screenshot shown in the README:

    uv run seatwatch run && uv run seatwatch report --output /tmp/report.html
    uv run python -m benchmarks.report_in_browser /tmp/report.html --screenshot docs/img/report.png
"""

from __future__ import annotations

import argparse
import base64
import contextlib
import json
import os
import queue
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

BROWSERS = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")
LOCAL_SCHEMES = ("file:", "data:", "blob:", "about:")

# Per chart: how many plotted values are neither missing nor zero (a chart with none has no data).
_CHART_POINTS_JS = """
JSON.stringify(Array.from(document.querySelectorAll('.js-plotly-plot')).map(function (el) {
  var n = 0;
  el.data.forEach(function (t) { (t.y || []).forEach(function (v) { if (v !== null && v !== 0) n++; }); });
  return {id: el.id, points: n, svg: el.querySelectorAll('.main-svg').length};
}))
"""


def find_browser() -> str | None:
    return next((path for name in BROWSERS if (path := shutil.which(name))), None)


@dataclass
class BrowserReport:
    console_errors: list[str] = field(default_factory=list)
    network_requests: list[str] = field(default_factory=list)
    charts: list[dict[str, Any]] = field(default_factory=list)
    page_height: int = 0


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
            f"--user-data-dir={profile}",
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


def _console_errors(events: list[dict]) -> list[str]:
    errors = []
    for event in events:
        method, params = event.get("method"), event.get("params", {})
        if method == "Runtime.consoleAPICalled" and params.get("type") in {"error", "assert"}:
            errors.append(
                " ".join(str(arg.get("value", arg.get("description", ""))) for arg in params["args"])
            )
        elif method == "Runtime.exceptionThrown":
            details = params["exceptionDetails"]
            errors.append(details.get("exception", {}).get("description") or details.get("text", "exception"))
        elif method == "Log.entryAdded" and params["entry"]["level"] == "error":
            errors.append(f"{params['entry']['source']}: {params['entry']['text']}")
    return errors


def check_report(
    html: Path, screenshot: Path | None = None, *, browser: str | None = None, width: int = 1280,
    screenshot_height: int | None = None,
) -> BrowserReport:  # fmt: skip
    """Load ``html`` in headless Chromium and report console errors, network requests and chart data.

    With ``screenshot``, save a PNG of the page (the whole page, or its top ``screenshot_height`` pixels).
    """
    browser = browser or find_browser()
    if browser is None:
        raise FileNotFoundError("no Chromium found: apt-get install chromium")
    with tempfile.TemporaryDirectory(prefix="seatwatch-chromium-") as profile:
        tools = _DevTools(browser, Path(profile))
        try:
            target = tools.send("Target.createTarget", {"url": "about:blank"})["targetId"]
            session = tools.send("Target.attachToTarget", {"targetId": target, "flatten": True})["sessionId"]
            for domain in ("Runtime", "Log", "Network", "Page"):
                tools.send(f"{domain}.enable", session=session)
            metrics = {"width": width, "height": 900, "deviceScaleFactor": 1, "mobile": False}
            tools.send("Emulation.setDeviceMetricsOverride", metrics, session=session)
            tools.send("Page.navigate", {"url": html.resolve().as_uri()}, session=session)
            tools.wait_for("Page.loadEventFired")
            tools.drain(1.5)  # Plotly draws after load; let any late error or request arrive
            charts = tools.send("Runtime.evaluate", {"expression": _CHART_POINTS_JS, "returnByValue": True},
                                session=session)["result"]["value"]  # fmt: skip
            height = tools.send("Page.getLayoutMetrics", session=session)["cssContentSize"]["height"]
            if screenshot is not None:
                clip_height = min(int(height), screenshot_height or int(height))
                tools.send(
                    "Emulation.setDeviceMetricsOverride", {**metrics, "height": clip_height}, session=session
                )
                tools.drain(1.0)  # the responsive charts re-lay out to the new viewport
                clip = {"x": 0, "y": 0, "width": width, "height": clip_height, "scale": 1}
                shot = tools.send("Page.captureScreenshot", {"format": "png", "clip": clip}, session=session)
                screenshot.write_bytes(base64.b64decode(shot["data"]))
            requests = [
                event["params"]["request"]["url"]
                for event in tools.events
                if event.get("method") == "Network.requestWillBeSent"
                and not event["params"]["request"]["url"].startswith(LOCAL_SCHEMES)
            ]
            return BrowserReport(_console_errors(tools.events), requests, json.loads(charts), int(height))
        finally:
            tools.close()


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("html", type=Path, help="the report to open")
    parser.add_argument("--screenshot", type=Path, help="write a PNG of the page here")
    parser.add_argument(
        "--height", type=int, help="screenshot only the top HEIGHT pixels (default: whole page)"
    )
    parser.add_argument("--width", type=int, default=1280, help="viewport width in pixels (default 1280)")
    args = parser.parse_args()
    report = check_report(args.html, args.screenshot, width=args.width, screenshot_height=args.height)
    print(json.dumps(vars(report), indent=2))
    empty = [chart["id"] for chart in report.charts if not chart["points"]]
    failed = report.console_errors or report.network_requests or empty or not report.charts
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
