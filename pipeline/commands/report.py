"""``seatwatch report``: the HTML report from the published copy, for one org or all of them."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from pipeline.commands import add_command
from pipeline.config.settings import load_settings

EXAMPLES = """examples:
  seatwatch report --output report.html
  seatwatch report --org 8a130dbc-06bc-1a05-jjk7-9822046115j1 --output acme.html

`seatwatch run` also writes data/report.html after every successful run.
"""


HELP = "write a self-contained HTML report (charts and tables) from the published copy"
DESCRIPTION = (
    "Write one HTML file that opens offline in any browser: seats and activity per product, the "
    "daily trend, pending invites, reclaimable cost and data freshness, all read from the marts "
    "of data/seatwatch.duckdb."
)


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = add_command(subparsers, "report", HELP, DESCRIPTION, EXAMPLES)
    parser.add_argument("--output", "-o", required=True, type=Path, help="HTML file to write")
    parser.add_argument("--org", help="only this org id (default: every org in the published copy)")
    parser.set_defaults(handler=_handle)


def _handle(args: argparse.Namespace) -> int:
    from pipeline.readers.report.page import (
        write_report,  # Plotly loads in a fraction of a second, not at --help
    )

    settings = load_settings()
    path = write_report(settings.published_path, args.output, args.org)
    print(
        f"Wrote {path} ({path.stat().st_size / 1e6:.1f} MB); it opens offline in any browser.",
        file=sys.stderr,
    )
    return 0
