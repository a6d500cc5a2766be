"""The reclaim policy's settings: mode, notice period and the channels of its messages.

Read by :func:`pipeline.config.settings.load_settings` (the only reader of the environment) and validated
there, so bad input ends the command in one line (exit 2) before any message is sent:

``SEATWATCH_RECLAIM_POLICY``     ``off`` (default), ``report``, ``notify`` or ``enforce``
``SEATWATCH_NOTICE_DAYS``        days between a notice and the removal, default 14
``SEATWATCH_NOTICE_REPLY_TO``    the admin users may ask to keep a seat (an e-mail address)
``SEATWATCH_NOTICE_FROM``        the From address of notices and digests
``SEATWATCH_SMTP_URL``           ``smtps://host:465`` or ``smtp://host:587`` (STARTTLS required; plain SMTP
                                 only to this machine)
``SEATWATCH_SMTP_USER`` / ``SEATWATCH_SMTP_PASSWORD``  SMTP login (the password is a :class:`Secret`)
``SEATWATCH_ADMIN_WEBHOOK_URL``  incoming webhook (Slack or Teams) for the digest and alerts
``SEATWATCH_ADMIN_EMAIL``        address(es) of the digest and alerts, comma-separated

Error messages never echo a URL: it may hold a password.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from urllib.parse import SplitResult, urlsplit

from pipeline.config.errors import ConfigurationError
from pipeline.config.hosts import is_loopback
from pipeline.config.secret import Secret

OFF, REPORT, NOTIFY, ENFORCE = "off", "report", "notify", "enforce"
MODES = (OFF, REPORT, NOTIFY, ENFORCE)
DEFAULT_NOTICE_DAYS = 14
# An address, deliberately plain: one @, no spaces or angle brackets, a dot in the domain (or localhost).
_ADDRESS = re.compile(r"[^@\s<>,;\"']+@(?:[^@\s<>,;\"'.]+\.)+[^@\s<>,;\"'.]+|[^@\s<>,;\"']+@localhost")


@dataclass(frozen=True)
class SmtpServer:
    host: str
    port: int
    implicit_tls: bool  # smtps://; else smtp:// with STARTTLS (plain only on loopback)
    user: str | None = None
    password: Secret | None = field(default=None, repr=False)

    @property
    def is_loopback(self) -> bool:
        return is_loopback(self.host)


@dataclass(frozen=True)
class PolicySettings:
    mode: str = OFF
    notice_days: int = DEFAULT_NOTICE_DAYS
    reply_to: str | None = None
    notice_from: str | None = None
    smtp: SmtpServer | None = None
    admin_webhook_url: str | None = None
    admin_emails: tuple[str, ...] = ()

    @property
    def sends_notices(self) -> bool:
        return self.mode in (NOTIFY, ENFORCE)

    @property
    def removes(self) -> bool:
        return self.mode == ENFORCE


def is_address(text: str) -> bool:
    return bool(_ADDRESS.fullmatch(text))


def _address(env: Mapping[str, str], name: str) -> str | None:
    raw = env.get(name, "").strip()
    if not raw:
        return None
    if not is_address(raw):
        raise ConfigurationError(
            f"{name} must be an e-mail address such as seatwatch@example.com (got {raw!r})."
        )
    return raw


def _mode(env: Mapping[str, str]) -> str:
    raw = env.get("SEATWATCH_RECLAIM_POLICY", "").strip().lower() or OFF
    if raw not in MODES:
        raise ConfigurationError(f"SEATWATCH_RECLAIM_POLICY must be one of {', '.join(MODES)} (got {raw!r}).")
    return raw


def _notice_days(env: Mapping[str, str]) -> int:
    raw = env.get("SEATWATCH_NOTICE_DAYS", "").strip()
    if not raw:
        return DEFAULT_NOTICE_DAYS
    if not raw.isdigit() or not 1 <= int(raw) <= 365:
        raise ConfigurationError(
            f"SEATWATCH_NOTICE_DAYS must be a whole number of days from 1 to 365 (got {raw!r}); unset it to "
            f"use {DEFAULT_NOTICE_DAYS}."
        )
    return int(raw)


def _url_setting(env: Mapping[str, str], name: str, example: str = "") -> tuple[str, SplitResult] | None:
    """``env[name]`` as given and split, or None when it is unset; a URL that does not split, or whose port
    is not a number, is a one-line error (``example`` follows it)."""
    raw = env.get(name, "").strip()
    if not raw:
        return None
    try:
        url = urlsplit(raw)
        url.port  # noqa: B018 (raises ValueError on a malformed port)
    except ValueError:
        raise ConfigurationError(f"{name} is not a valid URL{example}.") from None
    return raw, url


def _smtp(env: Mapping[str, str]) -> SmtpServer | None:
    setting = _url_setting(env, "SEATWATCH_SMTP_URL", ", e.g. smtps://smtp.example.com:465")
    if setting is None:
        return None
    _, url = setting
    host, port = url.hostname or "", url.port
    if url.password is not None:
        raise ConfigurationError(
            "SEATWATCH_SMTP_URL must not contain a password: remove it from the URL and set "
            "SEATWATCH_SMTP_PASSWORD instead (it is kept out of logs and files)."
        )
    if url.scheme not in ("smtp", "smtps") or not host or url.path not in ("", "/") or url.query:
        raise ConfigurationError(
            "SEATWATCH_SMTP_URL must be smtps://host:465 or smtp://host:587 (STARTTLS), with nothing "
            "after the port."
        )
    user = env.get("SEATWATCH_SMTP_USER", "").strip() or url.username or None
    password = env.get("SEATWATCH_SMTP_PASSWORD", "")
    if password and not user:
        raise ConfigurationError("SEATWATCH_SMTP_PASSWORD is set but SEATWATCH_SMTP_USER is not: set both.")
    implicit = url.scheme == "smtps"
    return SmtpServer(
        host, port or (465 if implicit else 587), implicit, user, Secret(password) if password else None
    )


def _webhook(env: Mapping[str, str]) -> str | None:
    setting = _url_setting(env, "SEATWATCH_ADMIN_WEBHOOK_URL")
    if setting is None:
        return None
    raw, url = setting
    host = url.hostname or ""
    if url.scheme != "https" and not (url.scheme == "http" and is_loopback(host)):
        raise ConfigurationError(
            "SEATWATCH_ADMIN_WEBHOOK_URL must be an https:// URL (the incoming-webhook URL of Slack or "
            "Teams); http:// is accepted only for this machine."
        )
    if not host:
        raise ConfigurationError("SEATWATCH_ADMIN_WEBHOOK_URL has no host.")
    return raw


def _admin_emails(env: Mapping[str, str]) -> tuple[str, ...]:
    raw = env.get("SEATWATCH_ADMIN_EMAIL", "").strip()
    if not raw:
        return ()
    addresses = tuple(part.strip() for part in raw.split(","))
    for address in addresses:
        if not is_address(address):
            raise ConfigurationError(
                f"SEATWATCH_ADMIN_EMAIL must be e-mail addresses separated by commas (got {address[:64]!r})."
            )
    return addresses


def parse_policy(env: Mapping[str, str]) -> PolicySettings:
    """The policy settings in ``env``, validated (one line, exit 2, on the first problem)."""
    policy = PolicySettings(
        mode=_mode(env),
        notice_days=_notice_days(env),
        reply_to=_address(env, "SEATWATCH_NOTICE_REPLY_TO"),
        notice_from=_address(env, "SEATWATCH_NOTICE_FROM"),
        smtp=_smtp(env),
        admin_webhook_url=_webhook(env),
        admin_emails=_admin_emails(env),
    )
    needs_from = policy.smtp is not None and policy.mode != OFF
    if needs_from and policy.notice_from is None:
        raise ConfigurationError(
            "SEATWATCH_SMTP_URL is set but SEATWATCH_NOTICE_FROM is not: set the From address of the notices."
        )
    if policy.admin_emails and policy.smtp is None and policy.mode != OFF:
        raise ConfigurationError("SEATWATCH_ADMIN_EMAIL needs SEATWATCH_SMTP_URL (the server that sends it).")
    return policy
