"""``seatwatch extract``: the extract and load alone (Admin API → DuckDB ``raw``)."""

from __future__ import annotations

import argparse
import sys

from pipeline.commands import add_command
from pipeline.commands.preflight import check_data_dir
from pipeline.commands.progress import StderrProgress
from pipeline.config.settings import load_settings

EXAMPLES = """examples:
  seatwatch extract                      # the embedded demo org (no credentials set)
  ATLASSIAN_ORG_ID=... ATLASSIAN_API_KEY=... seatwatch extract
  SEATWATCH_LAST_ACTIVE_STRATEGY=per_user seatwatch extract
"""


HELP = "load the Admin API into data/warehouse.duckdb (schema raw), without dbt"
DESCRIPTION = "Extract users, last-active dates, groups, workspaces and audit events into DuckDB raw."


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = add_command(subparsers, "extract", HELP, DESCRIPTION, EXAMPLES)
    parser.add_argument("--quiet", action="store_true", help="no progress on stderr")
    parser.set_defaults(handler=_handle)


def _handle(args: argparse.Namespace) -> int:
    # Imported here, not at the top: every command builds the parser, and dlt's import (about 0.7 s) was
    # most of `seatwatch --help`'s time and is of no use to the commands that load nothing.
    from pipeline.extract.demo import api_settings
    from pipeline.extract.run import clock_warning, run_extract

    settings = load_settings()
    check_data_dir(settings.data_dir)
    progress = StderrProgress(enabled=not args.quiet)
    try:
        with api_settings(settings, quiet=args.quiet) as resolved:
            result = run_extract(resolved, progress=progress)
    finally:
        progress.close()
    warning = None if settings.is_demo else clock_warning(result.clock_offsets)
    if warning and not args.quiet:
        print(warning, file=sys.stderr)
    if not args.quiet:
        for org_id, stats in result.api_stats.items():
            print(
                f"org {org_id}: {stats.calls} API calls, {stats.retries} retries, "
                f"{stats.rate_limited} rate-limited; loaded into {settings.warehouse_path}",
                file=sys.stderr,
            )
    return 0
