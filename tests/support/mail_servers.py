"""Real servers on loopback for the policy's channels: SMTP (aiosmtpd, optionally TLS, STARTTLS and a login)
and an incoming-webhook receiver, each on a port the system picks."""

from __future__ import annotations

import json
import socket
import ssl
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from email import message_from_bytes
from email import policy as email_policy
from email.message import EmailMessage
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@dataclass
class SmtpInbox:
    """What the server accepted, in order; ``down`` makes it refuse every message (an outage)."""

    messages: list[EmailMessage] = field(default_factory=list)
    down: bool = False
    # Called with the number of messages accepted so far, after each (a benchmark kills a run there).
    after_accept: Callable[[int], None] | None = None
    lock: threading.Lock = field(default_factory=threading.Lock)

    async def handle_DATA(self, server, session, envelope) -> str:
        if self.down:
            return "421 Service not available"
        with self.lock:
            self.messages.append(
                message_from_bytes(envelope.original_content or envelope.content, policy=email_policy.default)
            )
            count = len(self.messages)
        if self.after_accept is not None:
            self.after_accept(count)
        return "250 OK"

    def message_ids(self) -> list[str]:
        with self.lock:
            return [str(message["Message-ID"]) for message in self.messages]


@dataclass
class SmtpServerOnLoopback:
    inbox: SmtpInbox
    port: int


@contextmanager
def smtp_server(
    *,
    tls_context: ssl.SSLContext | None = None,
    implicit_tls: bool = False,
    login: tuple[str, str] | None = None,
) -> Iterator[SmtpServerOnLoopback]:
    inbox = SmtpInbox()
    kwargs: dict = {}
    if tls_context is not None and implicit_tls:
        kwargs["ssl_context"] = tls_context
    elif tls_context is not None:
        kwargs.update(tls_context=tls_context, require_starttls=True)
    if login is not None:

        def authenticate(server, session, envelope, mechanism, data) -> AuthResult:
            ok = isinstance(data, LoginPassword) and (data.login.decode(), data.password.decode()) == login
            return AuthResult(success=ok, handled=False)

        kwargs.update(
            authenticator=authenticate, auth_required=True, auth_require_tls=tls_context is not None
        )
    port = free_port()
    controller = Controller(inbox, hostname="127.0.0.1", port=port, **kwargs)
    controller.start()
    try:
        yield SmtpServerOnLoopback(inbox, port)
    finally:
        controller.stop()


@dataclass
class WebhookReceiver:
    url: str
    bodies: list[dict] = field(default_factory=list)
    statuses: list[int] = field(default_factory=list)  # answers to give, in order; then 200


@contextmanager
def webhook_receiver(statuses: list[int] | None = None) -> Iterator[WebhookReceiver]:
    receiver = WebhookReceiver(url="", statuses=list(statuses or []))

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
            receiver.bodies.append(json.loads(body))
            status = receiver.statuses.pop(0) if receiver.statuses else 200
            self.send_response(status)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    receiver.url = f"http://127.0.0.1:{server.server_address[1]}/hooks/T000/B000"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield receiver
    finally:
        server.shutdown()
        server.server_close()
