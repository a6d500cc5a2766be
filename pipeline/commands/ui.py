"""``seatwatch ui``: the Dagster UI and daemon (runs, schedule, lineage, checks) on loopback."""

from __future__ import annotations

import argparse
import contextlib
import errno
import os
import signal
import socket
import subprocess
import sys
from pathlib import Path

from pipeline.commands import add_command
from pipeline.config.errors import ConfigurationError
from pipeline.config.offline import apply_offline_defaults
from pipeline.config.paths import WORKSPACE_FILE
from pipeline.config.settings import load_settings

GRACE_SECONDS = 6.0

EXAMPLES = """examples:
  seatwatch ui                           # http://127.0.0.1:3000
  seatwatch ui --port 3100
"""


HELP = "the Dagster UI on http://127.0.0.1:3000, with the daily schedule running"
DESCRIPTION = (
    "Start `dagster dev` (web UI and daemon) on loopback with the data folder's Dagster home "
    "(<data folder>/.dagster/ unless DAGSTER_HOME is set). Materialising from the UI uses the demo "
    "org when no credentials are set."
)


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = add_command(subparsers, "ui", HELP, DESCRIPTION, EXAMPLES)
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
    settings = load_settings()  # fail on bad configuration now, not in the first run
    check_port_free(args.port)
    apply_offline_defaults()
    from pipeline.commands.dagster_home import ensure_dagster_home, project_instance
    from pipeline.runtime.recovery import recover_dead_runs

    home = ensure_dagster_home(settings.data_dir)  # created once, under a lock, before Dagster starts
    with project_instance(settings.data_dir) as instance:
        recover_dead_runs(instance, say=lambda line: print(line, file=sys.stderr, flush=True))
    print(f"Dagster UI on http://127.0.0.1:{args.port} (Dagster home {home}).", file=sys.stderr, flush=True)
    # dagster dev finds its home through DAGSTER_HOME, given to it alone (this process's environment is
    # never written).
    return _supervise(dagster_dev_command(args.port), {**os.environ, "DAGSTER_HOME": str(home)})


def _supervise(command: list[str], env: dict[str, str]) -> int:
    """Run ``dagster dev`` as a child that dies with us, and stop it (and its webserver, daemon and code
    server) within seconds on Ctrl-C or SIGTERM: exit 130 / 143 with one line."""
    from pipeline.runtime.children import die_with_parent
    from pipeline.runtime.signals import StopState, stoppable

    # Its own process group, so a stop reaches the webserver and daemon it starts too; the parent-death
    # signal stops it if this process is killed outright.
    child = subprocess.Popen(  # noqa: S603 (a fixed argv, no shell)
        command, env=env, preexec_fn=die_with_parent(signal.SIGTERM), process_group=0
    )

    def kill_group(state: StopState) -> None:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(child.pid, signal.SIGKILL)

    def line(state: StopState) -> str:
        return f"Dagster UI stopped ({state.name})."

    with stoppable(stopped_line=line, on_hard_stop=kill_group, within_dagster=False) as stop:
        try:
            code = child.wait()
        except KeyboardInterrupt:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(child.pid, signal.SIGTERM)
            try:
                child.wait(timeout=GRACE_SECONDS)
            except subprocess.TimeoutExpired:
                kill_group(stop)
                child.wait()
    if stop.requested:
        print(line(stop), file=sys.stderr, flush=True)
        return stop.exit_code
    return code
