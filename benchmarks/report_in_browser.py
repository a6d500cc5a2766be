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
import json
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from benchmarks.browser import find_browser, open_tab

__all__ = ["BrowserReport", "check_report", "find_browser"]

# Per chart: how many plotted values are neither missing nor zero (a chart with none has no data).
_CHART_POINTS_JS = """
JSON.stringify(Array.from(document.querySelectorAll('.js-plotly-plot')).map(function (el) {
  var n = 0;
  el.data.forEach(function (t) { (t.y || []).forEach(function (v) { if (v !== null && v !== 0) n++; }); });
  return {id: el.id, points: n, svg: el.querySelectorAll('.main-svg').length};
}))
"""


@dataclass
class BrowserReport:
    console_errors: list[str] = field(default_factory=list)
    network_requests: list[str] = field(default_factory=list)
    charts: list[dict[str, Any]] = field(default_factory=list)
    page_height: int = 0


def check_report(
    html: Path, screenshot: Path | None = None, *, browser: str | None = None, width: int = 1280,
    screenshot_height: int | None = None,
) -> BrowserReport:  # fmt: skip
    """Load ``html`` in headless Chromium and report console errors, network requests and chart data.

    With ``screenshot``, save a PNG of the page (the whole page, or its top ``screenshot_height`` pixels).
    """
    with open_tab(browser, width=width) as tab:
        tab.load(html.resolve().as_uri(), settle=1.5)  # Plotly draws after load
        charts = json.loads(tab.evaluate(_CHART_POINTS_JS))
        height = tab.height()
        if screenshot is not None:
            tab.screenshot(screenshot, screenshot_height)
        return BrowserReport(tab.console_errors(), tab.requests(), charts, height)


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
