"""Alerts to the admin channel (webhook, admin e-mail, or the outbox folder for the demo org) when a run
fails, is refused before it starts, or the published data is stale. Sent when a policy is on or an admin
channel is configured; a channel that is down never changes the command's own one-line error and exit code.
"""

from __future__ import annotations

from datetime import UTC, datetime

from pipeline.config.policy import OFF
from pipeline.config.settings import Settings
from pipeline.notify.channels import channels_for


def send_alert(settings: Settings, subject: str, text: str) -> list[str]:
    """Send one alert; returns the channels' one-line failures (empty when delivered or not configured)."""
    policy = settings.policy
    if policy.mode == OFF and not (policy.admin_webhook_url or policy.admin_emails):
        return []
    channels = channels_for(policy, settings.data_dir, demo=settings.is_demo)
    now = datetime.now(UTC)
    try:
        return channels.send_admin(
            f"Seatwatch alert: {subject}", text, key=f"alert-{now.isoformat()}", at=now
        )
    except OSError as error:  # the outbox folder cannot be written: the command's own error matters more
        return [f"the alert could not be written: {error}"]
