"""E-mail messages with a Message-ID chosen by the caller, so a message resent after a crash keeps its id."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime
from email.message import EmailMessage
from email.utils import format_datetime


@dataclass(frozen=True)
class Mail:
    to: tuple[str, ...]
    subject: str
    body: str
    message_id: str  # with the angle brackets, e.g. <notice-3f2a…@seatwatch>
    sender: str | None = None
    reply_to: str | None = None
    sent_at: datetime | None = None  # the API's clock; the Date header when given


def message_id(*parts: str, sender: str | None = None) -> str:
    """A stable Message-ID for ``parts`` (the same parts always give the same id)."""
    digest = hashlib.sha256("\x1f".join(parts).encode()).hexdigest()[:32]
    domain = sender.rsplit("@", 1)[1] if sender and "@" in sender else "seatwatch.invalid"
    return f"<{digest}@{domain}>"


def to_email(mail: Mail) -> EmailMessage:
    message = EmailMessage()
    message["Message-ID"] = mail.message_id
    message["From"] = mail.sender or "seatwatch@localhost"
    message["To"] = ", ".join(mail.to)
    if mail.reply_to:
        message["Reply-To"] = mail.reply_to
    if mail.sent_at is not None:
        message["Date"] = format_datetime(mail.sent_at)
    message["Subject"] = mail.subject
    message["Auto-Submitted"] = "auto-generated"
    message.set_content(mail.body)
    return message
