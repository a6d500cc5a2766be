"""``seatwatch export`` and ``seatwatch status``: read-only commands on the published copy."""

from __future__ import annotations

import argparse
import json
import sys

from pipeline.config.errors import ConfigurationError
from pipeline.config.settings import load_settings
from pipeline.readers.csv_output import STDOUT
from pipeline.readers.export import export_plan, export_users
from pipeline.readers.status import format_status, read_status

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
        help="the latest runs and how they ended, and how fresh the published data is (exit 1 if not)",
        description=(
            "The latest runs of the daily job (trigger, start, duration, outcome, reason of a failure), "
            "whether the published copy comes from the latest successful run, and per org how old its data "
            "is. Exit 1 when the latest run failed or the data is stale (for monitoring), else 0."
        ),
        epilog="examples:\n  seatwatch status\n  seatwatch status --json | jq .problems\n"
        "  seatwatch status --quiet || alert-someone",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    status.add_argument("--runs", type=int, default=5, metavar="N", help="how many runs to list (default 5)")
    output = status.add_mutually_exclusive_group()
    output.add_argument("--json", action="store_true", help="machine-readable output")
    output.add_argument("--quiet", action="store_true", help="no output, only the exit code")
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
    from pipeline.commands.dagster_home import dagster_home

    if args.runs < 1:
        raise ConfigurationError(f"--runs must be at least 1 (got {args.runs}).")
    status = read_status(
        dagster_home(settings.data_dir), settings.data_dir, settings.published_path, limit=args.runs
    )
    if args.json:
        print(json.dumps(status.to_dict(), indent=2))
    elif not args.quiet:
        print(format_status(status))
    return 0 if status.healthy else 1
