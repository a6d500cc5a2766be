"""``seatwatch status``: the latest runs, how they ended and how fresh the published data is (read-only)."""

from __future__ import annotations

import argparse
import json

from pipeline.commands import add_command
from pipeline.config.errors import ConfigurationError
from pipeline.config.settings import load_settings
from pipeline.readers.status import format_status, read_status

HELP = "the latest runs and how they ended, and how fresh the published data is (exit 1 if not)"
DESCRIPTION = (
    "The latest runs of the daily job (trigger, start, duration, outcome, reason of a failure), "
    "whether the published copy comes from the latest successful run, and per org how old its data "
    "is. Exit 1 when the latest run failed or the data is stale (for monitoring), else 0."
)
EXAMPLES = """examples:
  seatwatch status
  seatwatch status --json | jq .problems
  seatwatch status --quiet || alert-someone
"""


def register(subparsers: argparse._SubParsersAction) -> None:
    status = add_command(subparsers, "status", HELP, DESCRIPTION, EXAMPLES)
    status.add_argument("--runs", type=int, default=5, metavar="N", help="how many runs to list (default 5)")
    output = status.add_mutually_exclusive_group()
    output.add_argument("--json", action="store_true", help="machine-readable output")
    output.add_argument("--quiet", action="store_true", help="no output, only the exit code")
    status.add_argument(
        "--alert",
        action="store_true",
        help="when not healthy (a failed or refused run, stale data), also alert the admin channel",
    )
    status.set_defaults(handler=_status)


def _status(args: argparse.Namespace) -> int:
    settings = load_settings()
    from pipeline.commands.dagster_home import dagster_home

    if args.runs < 1:
        raise ConfigurationError(f"--runs must be at least 1 (got {args.runs}).")
    target = settings.publish_destination and f"{settings.publish_destination}:{settings.publish_dataset}"
    status = read_status(
        dagster_home(settings.data_dir),
        settings.data_dir,
        settings.published_path,
        limit=args.runs,
        warehouse_target=target,
    )
    if args.json:
        print(json.dumps(status.to_dict(), indent=2))
    elif not args.quiet:
        print(format_status(status))
    if args.alert and not status.healthy:
        from pipeline.notify.alerts import send_alert

        send_alert(settings, "not healthy", "; ".join(status.problems))
    return 0 if status.healthy else 1
