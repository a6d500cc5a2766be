"""Send e-mail over SMTP: ``smtps://`` (TLS from the first byte) or ``smtp://`` with STARTTLS required.

Plain SMTP (a server that offers no STARTTLS) is accepted only on this machine, as the API's http:// is:
elsewhere the login and the notices would cross the network unencrypted.
"""

from __future__ import annotations

import smtplib
import ssl
from collections.abc import Sequence

from pipeline.config.policy import SmtpServer
from pipeline.notify.errors import ChannelDown
from pipeline.notify.message import Mail, to_email

TIMEOUT_SECONDS = 30.0


def send_mails(
    server: SmtpServer,
    mails: Sequence[Mail],
    *,
    on_sent=None,
    tls_context: ssl.SSLContext | None = None,
    timeout: float = TIMEOUT_SECONDS,
) -> None:
    """Send ``mails`` over one connection, calling ``on_sent(mail)`` as the server accepts each one."""
    context = tls_context or ssl.create_default_context()
    where = f"{server.host}:{server.port}"
    try:
        if server.implicit_tls:
            connection: smtplib.SMTP = smtplib.SMTP_SSL(
                server.host, server.port, timeout=timeout, context=context
            )
        else:
            connection = smtplib.SMTP(server.host, server.port, timeout=timeout)
        with connection:
            connection.ehlo()
            if not server.implicit_tls:
                if connection.has_extn("starttls"):
                    connection.starttls(context=context)
                    connection.ehlo()
                elif not server.is_loopback:
                    raise ChannelDown(
                        f"The SMTP server {where} offers no STARTTLS: use smtps:// (port 465) or a server "
                        "that encrypts; plain SMTP is accepted only on this machine."
                    )
            if server.user:
                password = server.password.reveal() if server.password else ""
                connection.login(server.user, password)
            for mail in mails:
                connection.send_message(to_email(mail))
                if on_sent is not None:
                    on_sent(mail)
    except ChannelDown:
        raise
    except smtplib.SMTPAuthenticationError as error:
        raise ChannelDown(f"The SMTP server {where} refused the login ({error.smtp_code}).") from None
    except (smtplib.SMTPException, OSError) as error:
        # str(error) of smtplib never holds the password; keep it short and on one line.
        raise ChannelDown(
            f"Sending e-mail through {where} failed: {type(error).__name__}: {str(error)[:200]}"
        ) from None
