"""A real PostgreSQL 16 for the tests, started by the suite itself: the ``pgserver`` wheel ships the server
binaries, so ``uv run pytest`` needs nothing else on a fresh machine (as root too: pgserver then runs the
server as its own system user).

The server listens on a Unix socket in a temporary folder only, never on a TCP port. Seatwatch connects as
the role ``seatwatch`` with a password (``scram-sha-256``, so a wrong one is refused); the fixture itself
connects as the superuser ``postgres`` without one (``trust``, local socket only). Each test gets its own
database (:meth:`PostgresServer.database`), so tests sharing the server never see each other's tables.
"""

from __future__ import annotations

import contextlib
import secrets
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote, urlsplit

# Planted in every URL the tests hand to Seatwatch: the leak tests look for it in files, logs and processes.
PASSWORD_PREFIX = "planted-pg-secret-"
ROLE = "seatwatch"
_HBA = """\
# Written by tests/support/postgres.py: the superuser over the socket without a password (the fixture),
# every other role with one.
local all postgres trust
local all all scram-sha-256
"""


@dataclass
class PostgresServer:
    server: object  # pgserver.PostgresServer
    password: str

    @property
    def socket_dir(self) -> str:
        return dict(part.split("=", 1) for part in urlsplit(self.server.get_uri()).query.split("&"))["host"]

    def url(self, database: str, *, password: str | None = None) -> str:
        """What a team puts in ``DESTINATION__POSTGRES__CREDENTIALS``: libpq URL, socket folder as host."""
        secret = quote(self.password if password is None else password, safe="")
        return (
            f"postgresql://{ROLE}:{secret}@localhost:5432/{database}?host={quote(self.socket_dir, safe='/')}"
        )

    def sqlalchemy_url(self, database: str) -> str:
        """The same for dagster-postgres: SQLAlchemy 2.1 reads a bare ``postgresql://`` as psycopg 3, which
        is not installed; dagster-postgres brings psycopg2."""
        return self.url(database).replace("postgresql://", "postgresql+psycopg2://", 1)

    def psql(self, sql: str, database: str = "postgres") -> str:
        """Run ``sql`` as the superuser; tuples only, ``|``-separated."""
        from pgserver._commands import POSTGRES_BIN_PATH

        return subprocess.run(  # noqa: S603 (our own psql binary and test SQL)
            [str(POSTGRES_BIN_PATH / "psql"), "-X", "-q", "-A", "-t", "-v", "ON_ERROR_STOP=1",
             "-h", self.socket_dir, "-U", "postgres", "-d", database],
            input=sql, capture_output=True, text=True, check=True, timeout=60,
        ).stdout.strip()  # fmt: skip

    def database(self, name: str) -> str:
        """A new empty database owned by the Seatwatch role; its name."""
        self.psql(f'drop database if exists "{name}" with (force); create database "{name}" owner {ROLE};')
        return name

    def connect(self, database: str):  # a psycopg2 connection as the Seatwatch role
        import psycopg2

        return psycopg2.connect(self.url(database))

    @contextlib.contextmanager
    def stopped(self) -> Iterator[None]:
        """The server is down inside the block and up again after it, whatever the block raised."""
        from pgserver._commands import pg_ctl

        server = self.server
        pg_ctl(["-w", "-m", "fast", "stop"], pgdata=server.pgdata, user=server.system_user)
        try:
            yield
        finally:
            server.ensure_postgres_running()


def start_server() -> Iterator[PostgresServer]:
    """Start a server with its data in a new temporary folder; stop it and delete the folder when the
    generator is closed.

    Not in pytest's temporary folder: as root, pgserver runs the server as its own system user, which must be
    able to reach the data folder, and every pytest session makes ``/tmp/pytest-of-<user>`` private again.
    """
    import pgserver

    root = Path(tempfile.mkdtemp(prefix="seatwatch-pg-"))
    server = pgserver.get_server(root / "pgdata", cleanup_mode="stop")
    (Path(server.pgdata) / "pg_hba.conf").write_text(_HBA)
    password = PASSWORD_PREFIX + secrets.token_hex(8)
    running = PostgresServer(server, password)
    running.psql(f"select pg_reload_conf(); create role {ROLE} login createdb password '{password}';")
    try:
        yield running
    finally:
        server.cleanup()
        shutil.rmtree(root, ignore_errors=True)
