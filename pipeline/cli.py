"""The ``seatwatch`` command.

Each subcommand is a module of ``pipeline/commands/`` that registers itself here; this file only wires
them together and turns :class:`~pipeline.config.errors.SeatwatchError` into one line on stderr and an exit
code (0 success, 1 run failed, 2 bad usage or configuration).
"""

from __future__ import annotations

import argparse
import os
import sys
import traceback
from collections.abc import Sequence
from typing import NoReturn

from pipeline.config.errors import SeatwatchError, unexpected_error_line


class OneLineParser(argparse.ArgumentParser):
    """argparse prints the whole usage before its error; one line naming the fix is what a person reads."""

    def error(self, message: str) -> NoReturn:
        self.exit(2, f"{self.prog}: error: {message}; see `{self.prog} --help`.\n")


def build_parser() -> argparse.ArgumentParser:
    # Imported here so `seatwatch --help` stays fast and importing pipeline.cli has no side effects.
    from pipeline.commands import (
        docs,
        doctor,
        export,
        extract,
        reclaim,
        report,
        run,
        simulator,
        status,
        ui,
    )

    parser = OneLineParser(
        prog="seatwatch",
        description="Who really uses the Atlassian Cloud seats you pay for.",
        epilog=(
            "examples:\n"
            "  seatwatch doctor                  # is the org (and the API key) ready?\n"
            "  seatwatch run                     # the demo org when no ATLASSIAN_* variables are set\n"
            "  seatwatch export users --output users.csv\n"
            "  seatwatch status\n"
            "  seatwatch reclaim plan --output plan.json\n\n"
            "Exit codes: 0 success, 1 run failed, 2 bad usage or configuration."
        ),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for command in (doctor, extract, export, status, run, reclaim, ui, report, docs, simulator):
        command.register(subparsers)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exit_:  # --help (0) or a usage error (2), already printed
        return exit_.code if isinstance(exit_.code, int) else 2
    verbose = getattr(args, "verbose", False)
    try:
        return int(args.handler(args) or 0)
    except SeatwatchError as error:
        if verbose:
            traceback.print_exc()
        print(f"seatwatch: error: {error}", file=sys.stderr)
        return error.exit_code
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:
        # The reader of `-o -` stopped early (`| head`): what it read is what it wanted.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0
    except Exception as error:  # a bug or a case without its own message: still one line, no traceback
        if verbose:
            traceback.print_exc()
        print(f"seatwatch: error: {unexpected_error_line(error)}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
