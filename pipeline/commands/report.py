"""``seatwatch export`` and ``seatwatch status``: read-only commands on the published copy."""

from __future__ import annotations

import argparse
import json
import sys

from pipeline.csv_output import STDOUT
from pipeline.export import export_plan, export_users
from pipeline.settings import load_settings
from pipeline.status import format_status, read_status

EXPORT_EXAMPLES = """examples:
  seatwatch export users --output users.csv
  seatwatch export users --output users.csv --org 8a130dbc-06bc-1a05-jjk7-9822046115j1
  seatwatch export plan --output reclamation-plan.csv
  seatwatch export users -o - | less     # - writes to standard output
  seatwatch export users -o users.csv --excel
"""


def register(subparsers: argparse._SubParsersAction) -> None:
    export = subparsers.add_parser(
        "export",
        help="write a CSV from the published copy (users, or the reclamation plan)",
        description="Write a CSV from data/seatwatch.duckdb; invited users show as Invited, never Active.",
        epilog=EXPORT_EXAMPLES,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    export.add_argument("what", choices=["users", "plan"], help="users: one row per user; plan: reclaim plan")
    export.add_argument(
        "--output",
        "-o",
        required=True,
        help="CSV file to write (replaced atomically; a link is followed to its file), or - for stdout",
    )
    export.add_argument("--org", help="only this org id (default: every org in the warehouse)")
    export.add_argument(
        "--excel", action="store_true", help="UTF-8 with a byte-order mark, so Excel shows accented names"
    )
    export.set_defaults(handler=_export)

    status = subparsers.add_parser(
        "status",
        help="recent runs per org, freshness, API calls, and whether the published copy is current",
        epilog="examples:\n  seatwatch status\n  seatwatch status --json",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    status.add_argument("--json", action="store_true", help="machine-readable output")
    status.set_defaults(handler=_status)


def _export(args: argparse.Namespace) -> int:
    settings = load_settings()
    writer = export_users if args.what == "users" else export_plan
    count = writer(settings.published_path, args.output, args.org, excel=args.excel)
    where = "standard output" if args.output == STDOUT else args.output
    print(f"Wrote {count} rows to {where}", file=sys.stderr)
    return 0


def _status(args: argparse.Namespace) -> int:
    settings = load_settings()
    status = read_status(settings.warehouse_path, settings.published_path)
    if args.json:
        runs = [
            dict(
                vars(run),
                extracted_at=run.extracted_at.isoformat(),
                activity_complete_through=run.activity_complete_through.isoformat(),
            )
            for run in status["runs"]
        ]
        print(json.dumps({**status, "runs": runs}, indent=2))
    else:
        print(format_status(status, settings.warehouse_path, settings.published_path))
    return 0
