"""Serve the simulator with uvicorn on loopback, in a background thread.

``start_in_thread(world)`` binds the socket itself (port 0 picks a free one, known before the thread
starts), runs uvicorn's event loop in a daemon thread and returns once the server accepts connections.
Loopback only: the simulator has one fixed API key and ground-truth endpoints, so it must never be reachable
from another machine.
"""

from __future__ import annotations

import ipaddress
import logging
import socket
import threading
import time
from types import TracebackType

import uvicorn

from pipeline.config.errors import ConfigurationError
from pipeline.simulator.app import create_app
from pipeline.simulator.faults import DroppedConnection
from pipeline.simulator.state import API_PREFIX
from pipeline.simulator.world import World

_STARTUP_TIMEOUT_SECONDS = 10
# A slow-response fault may be sleeping when we stop; don't wait for it longer than this.
_SHUTDOWN_GRACE_SECONDS = 2


def check_loopback(host: str) -> None:
    """ConfigurationError unless ``host`` is a loopback address (or ``localhost``)."""
    if host == "localhost":
        return
    try:
        loopback = ipaddress.ip_address(host).is_loopback
    except ValueError:
        loopback = False
    if not loopback:
        raise ConfigurationError(
            f"The simulator only listens on loopback (got host {host!r}): use 127.0.0.1, ::1 or localhost."
        )


class _HideSimulatedDrops(logging.Filter):
    """uvicorn logs every exception that ends a response; a simulated drop is intended, not an error."""

    def filter(self, record: logging.LogRecord) -> bool:
        return not (record.exc_info and isinstance(record.exc_info[1], DroppedConnection))


_DROP_FILTER = _HideSimulatedDrops()


class RunningSimulator:
    """A simulator being served; ``stop()`` (or leaving the ``with`` block) shuts it down."""

    def __init__(self, world: World, server: uvicorn.Server, thread: threading.Thread, host: str, port: int):
        self.world = world
        self.host = host
        self.port = port
        self._server = server
        self._thread = thread

    @property
    def base_url(self) -> str:
        """What a client uses as ``ATLASSIAN_API_BASE_URL``."""
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self.port}{API_PREFIX}"

    def stop(self) -> None:
        self._server.should_exit = True
        self._thread.join(timeout=_SHUTDOWN_GRACE_SECONDS + 5)

    def __enter__(self) -> RunningSimulator:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()


def start_in_thread(world: World, host: str = "127.0.0.1", port: int = 0) -> RunningSimulator:
    check_loopback(host)
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
    except OSError as error:
        sock.close()
        raise ConfigurationError(
            f"Cannot listen on {host}:{port} ({error.strerror}): choose another --port."
        ) from None
    logging.getLogger("uvicorn.error").addFilter(_DROP_FILTER)  # idempotent: a filter is added once
    config = uvicorn.Config(
        create_app(world),
        log_config=None,  # leave the host application's logging alone
        log_level="warning",
        access_log=False,
        lifespan="off",
        # The Date header is the simulated clock, set by the app; uvicorn's would be the real one.
        date_header=False,
        server_header=False,
        timeout_graceful_shutdown=_SHUTDOWN_GRACE_SECONDS,
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(
        target=server.run, kwargs={"sockets": [sock]}, name="seatwatch-simulator", daemon=True
    )
    thread.start()
    deadline = time.monotonic() + _STARTUP_TIMEOUT_SECONDS
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            server.should_exit = True
            raise RuntimeError("the simulator's HTTP server did not start")
        time.sleep(0.01)
    return RunningSimulator(world, server, thread, host, sock.getsockname()[1])
