"""``seatwatch docs``: browse every published table and column description, offline, on loopback."""

from __future__ import annotations

import argparse
import contextlib
import functools
import signal
import sys
import tempfile
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from pipeline.commands import add_command
from pipeline.config.errors import ConfigurationError
from pipeline.config.settings import load_settings

EXAMPLES = """examples:
  seatwatch docs                         # http://127.0.0.1:8080
  seatwatch docs --port 8090
  seatwatch docs --output site/          # a static copy: open site/index.html, no server needed
"""


HELP = "dbt docs of the published tables, served on http://127.0.0.1:8080 (or --output DIR)"
DESCRIPTION = (
    "Generate dbt's documentation site for the tables in data/seatwatch.duckdb (every table and "
    "column description, types, lineage) without network access, then serve it on loopback, or "
    "write it to a folder with --output."
)


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = add_command(subparsers, "docs", HELP, DESCRIPTION, EXAMPLES)
    parser.add_argument("--output", "-o", type=Path, help="write the static site to this folder and exit")
    parser.add_argument(
        "--port", type=int, default=8080, help="port to serve on (default 8080; 0 = any free)"
    )
    parser.set_defaults(handler=_handle)


class _QuietHandler(SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: object) -> None:
        pass  # one line per request would bury the URL we printed


def serve(directory: Path, port: int) -> ThreadingHTTPServer:
    """An HTTP server for ``directory`` on 127.0.0.1 (not started); port 0 picks a free one."""
    handler = functools.partial(_QuietHandler, directory=str(directory))
    try:
        return ThreadingHTTPServer(("127.0.0.1", port), handler)
    except OSError as error:
        raise ConfigurationError(
            f"Cannot listen on 127.0.0.1:{port} ({error.strerror}): pick another --port."
        ) from None


def _interrupt(signum: int, frame: object) -> None:
    raise KeyboardInterrupt


def _handle(args: argparse.Namespace) -> int:
    if not 0 <= args.port < 65536:
        raise ConfigurationError(f"--port must be between 0 and 65535 (got {args.port}).")
    from pipeline.readers.docs_site import build_docs_site

    settings = load_settings()
    print("Generating the dbt docs of the published tables (offline)...", file=sys.stderr, flush=True)
    if args.output is not None:
        index = build_docs_site(settings.published_path, args.output)
        print(f"Wrote {index}: open it in a browser, no server or network needed.", file=sys.stderr)
        return 0
    with tempfile.TemporaryDirectory(prefix="seatwatch-docs-site-") as site:
        build_docs_site(settings.published_path, Path(site))
        with serve(Path(site), args.port) as server:
            print(
                f"dbt docs on http://127.0.0.1:{server.server_address[1]}/ (Ctrl-C to stop).",
                file=sys.stderr,
                flush=True,
            )
            # Ctrl-C, or SIGTERM from a service manager, stops it and removes the generated site.
            signal.signal(signal.SIGTERM, _interrupt)
            with contextlib.suppress(KeyboardInterrupt):
                server.serve_forever()
    return 0
