"""Every ``seatwatch`` subcommand, one module each; each registers itself with :func:`add_command`."""

from __future__ import annotations

import argparse
from typing import Any


def add_command(
    subparsers: Any, name: str, help: str, description: str, examples: str
) -> argparse.ArgumentParser:
    """A subcommand whose ``--help`` shows its description and its examples as written (one style for all)."""
    return subparsers.add_parser(
        name,
        help=help,
        description=description,
        epilog=examples,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
