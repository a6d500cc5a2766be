"""``seatwatch export``: a CSV from the published copy (read-only)."""

from __future__ import annotations

import argparse
import sys

from pipeline.commands import add_command
from pipeline.config.settings import load_settings
from pipeline.readers.csv_output import STDOUT
from pipeline.readers.export import export_plan, export_users

EXPORT_EXAMPLES = """examples:
  seatwatch export users --output users.csv
  seatwatch export users --output users.csv --org 8a130dbc-06bc-1a05-jjk7-9822046115j1
  seatwatch export plan --output reclamation-plan.csv
  seatwatch export users -o - | less     # - writes to standard output
  seatwatch export users -o users.csv --excel
"""


HELP = "write a CSV from the published copy (users, or the reclamation plan)"
DESCRIPTION = "Write a CSV from data/seatwatch.duckdb; invited users show as Invited, never Active."


def register(subparsers: argparse._SubParsersAction) -> None:
    export = add_command(subparsers, "export", HELP, DESCRIPTION, EXPORT_EXAMPLES)
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


def _export(args: argparse.Namespace) -> int:
    settings = load_settings()
    writer = export_users if args.what == "users" else export_plan
    count = writer(settings.published_path, args.output, args.org, excel=args.excel)
    where = "standard output" if args.output == STDOUT else args.output
    print(f"Wrote {count} rows to {where}", file=sys.stderr)
    return 0
