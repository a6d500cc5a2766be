"""Post a message to an incoming webhook (Slack- and Teams-compatible: ``{"text": …}``), retrying 5xx."""

from __future__ import annotations

import time
from urllib.parse import urlsplit

import httpx

from pipeline.notify.errors import ChannelDown

ATTEMPTS = 3
BACKOFF_SECONDS = 1.0


def post_text(
    url: str, text: str, *, attempts: int = ATTEMPTS, backoff: float = BACKOFF_SECONDS, timeout: float = 15.0
) -> None:
    # Never the URL in an error: a webhook URL is a credential (its path is the secret).
    host = urlsplit(url).hostname
    last = ""
    for attempt in range(attempts):
        try:
            response = httpx.post(url, json={"text": text}, timeout=timeout)
        except httpx.HTTPError as error:
            last = type(error).__name__
        else:
            if response.status_code < 300:
                return
            last = f"HTTP {response.status_code}"
            if response.status_code < 500 and response.status_code != 429:
                break
        if attempt + 1 < attempts:
            time.sleep(backoff * (2**attempt))
    raise ChannelDown(f"The admin webhook at {host} did not take the message ({last}).")
