"""The channels of one policy run, chosen once from the settings.

Notices to users go by SMTP; the admin digest and alerts to the webhook and/or the admin addresses. The
embedded demo org, or a policy with no channel configured for a kind of message, writes to the outbox
folder instead, so the demo opens no connection beyond loopback and a newcomer can read every message.
"""

from __future__ import annotations

import ssl
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from pipeline.config.policy import PolicySettings
from pipeline.notify import outbox, smtp, webhook
from pipeline.notify.errors import ChannelDown
from pipeline.notify.message import Mail, message_id


@dataclass(frozen=True)
class Channels:
    policy: PolicySettings
    outbox_dir: Path
    use_outbox: bool  # the embedded demo org: files only
    tls_context: ssl.SSLContext | None = None
    webhook_backoff: float = webhook.BACKOFF_SECONDS

    @property
    def notices_to_outbox(self) -> bool:
        return self.use_outbox or self.policy.smtp is None

    @property
    def admin_to_outbox(self) -> bool:
        return self.use_outbox or not (self.policy.admin_webhook_url or self.policy.admin_emails)

    def describe(self) -> tuple[str, str]:
        """Where notices and admin messages go, in words (``seatwatch reclaim policy``)."""
        notices = (
            f"the outbox folder {self.outbox_dir} (nobody receives them)"
            if self.notices_to_outbox
            else f"e-mail through {self.policy.smtp.host}:{self.policy.smtp.port}"  # type: ignore[union-attr]
        )
        if self.admin_to_outbox:
            admin = f"the outbox folder {self.outbox_dir}"
        else:
            parts = ["the admin webhook"] if self.policy.admin_webhook_url else []
            parts += [", ".join(self.policy.admin_emails)] if self.policy.admin_emails else []
            admin = " and ".join(parts)
        return notices, admin

    def send_notices(self, mails: Sequence[Mail], on_sent: Callable[[Mail], None]) -> None:
        """Send each mail, calling ``on_sent`` once the server (or the outbox) has it. Raises ChannelDown."""
        if self.notices_to_outbox:
            for mail in mails:
                outbox.write_mail(self.outbox_dir, mail)
                on_sent(mail)
            return
        assert self.policy.smtp is not None
        smtp.send_mails(self.policy.smtp, mails, on_sent=on_sent, tls_context=self.tls_context)

    def send_admin(self, subject: str, text: str, *, key: str, at: datetime | None = None) -> list[str]:
        """The digest or an alert to every admin channel; returns the one-line failures (none = delivered)."""
        mail = Mail(
            to=self.policy.admin_emails or ("admin@localhost",),
            subject=subject,
            body=text,
            message_id=message_id("admin", key, sender=self.policy.notice_from),
            sender=self.policy.notice_from,
            sent_at=at,
        )
        if self.admin_to_outbox:
            outbox.write_mail(self.outbox_dir, mail)
            outbox.write_webhook(self.outbox_dir, key, f"*{subject}*\n{text}")
            return []
        failures = []
        if self.policy.admin_webhook_url:
            try:
                webhook.post_text(
                    self.policy.admin_webhook_url, f"*{subject}*\n{text}", backoff=self.webhook_backoff
                )
            except ChannelDown as error:
                failures.append(str(error))
        if self.policy.admin_emails and self.policy.smtp is not None:
            try:
                smtp.send_mails(self.policy.smtp, [mail], tls_context=self.tls_context)
            except ChannelDown as error:
                failures.append(str(error))
        return failures


def channels_for(policy: PolicySettings, data_dir: Path, *, demo: bool) -> Channels:
    return Channels(policy, data_dir / "outbox", use_outbox=demo)
