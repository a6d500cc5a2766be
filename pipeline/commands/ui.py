"""``seatwatch ui``: the Dagster UI and daemon (runs, schedule, lineage, checks) on loopback."""

from __future__ import annotations

import argparse
import errno
import os
import socket
import sys
from pathlib import Path

from pipeline.config.errors import ConfigurationError
from pipeline.config.offline import apply_offline_defaults
from pipeline.config.paths import WORKSPACE_FILE
from pipeline.config.settings import load_settings

EXAMPLES = """examples:
  seatwatch ui                           # http://127.0.0.1:3000
  seatwatch ui --port 3100
"""


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "ui",
        help="the Dagster UI on http://127.0.0.1:3000, with the daily schedule running",
        description=(
            "Start `dagster dev` (web UI and daemon) on loopback with the project's Dagster home "
            "(.dagster_home/). Materialising from the UI uses the demo org when no credentials are set."
        ),
        epilog=EXAMPLES,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--port", type=int, default=3000, help="web UI port (default 3000)")
    parser.set_defaults(handler=_handle)


def dagster_dev_command(port: int) -> list[str]:
    dagster = Path(sys.executable).with_name("dagster")  # the venv's, activated or not
    return [str(dagster), "dev", "-w", str(WORKSPACE_FILE), "-h", "127.0.0.1", "-p", str(port)]


def check_port_free(port: int, host: str = "127.0.0.1") -> None:
    """Refuse a port in use now: dagster dev would log "address already in use" and keep running."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        try:
            probe.bind((host, port))
        except OSError as error:
            reason = "is in use" if error.errno == errno.EADDRINUSE else f"cannot be used ({error.strerror})"
            raise ConfigurationError(
                f"Port {port} on {host} {reason}: stop what listens there, or pick another with --port."
            ) from None


def _handle(args: argparse.Namespace) -> int:
    if not 0 < args.port < 65536:
        raise ConfigurationError(f"--port must be between 1 and 65535 (got {args.port}).")
    load_settings()  # fail on bad configuration now, not in the first run
    check_port_free(args.port)
    apply_offline_defaults()
    from pipeline.commands.dagster_home import ensure_dagster_home

    home = ensure_dagster_home()
    print(f"Dagster UI on http://127.0.0.1:{args.port} (Dagster home {home}).", file=sys.stderr, flush=True)
    command = dagster_dev_command(args.port)
    # Become dagster dev rather than wait for it: Ctrl-C, SIGTERM and the exit code are then its own, and a
    # stopped `seatwatch ui` can never leave a webserver and daemon behind.
    # dagster dev finds its home through DAGSTER_HOME, given to it alone (this process's environment is
    # never written).
    os.execve(command[0], command, {**os.environ, "DAGSTER_HOME": str(home)})  # noqa: S606 (a fixed argv)
