"""Where the reclaim policy's messages go: e-mail over SMTP, an incoming webhook (Slack, Teams), or the
outbox folder (``<data folder>/outbox``) that the embedded demo org uses instead of any network.

Standard library ``smtplib``/``email`` and ``httpx`` only. Every failure to deliver is a
:class:`~pipeline.notify.errors.ChannelDown` with one line that never holds a password.
"""
