"""Which hosts count as this machine: the one place plain ``http://`` (the API, a webhook) or plain SMTP is
allowed to go, because nothing crosses a network there."""

from __future__ import annotations

import ipaddress


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False
