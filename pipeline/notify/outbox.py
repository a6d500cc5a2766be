"""The outbox folder: the exact messages a real org would get, as files (the embedded demo org's channel).

``<data folder>/outbox/<id>.eml`` for e-mail (open it in any mail program) and ``<id>.json`` for what the
webhook would receive. A file is named after its Message-ID, written to a temporary name and renamed, so a
message written twice (a resend after a crash) is one file.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

from pipeline.notify.message import Mail, to_email


def _name(message_id: str) -> str:
    return hashlib.sha256(message_id.encode()).hexdigest()[:24]


def _write(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_suffix(path.suffix + ".tmp")
    temporary.write_bytes(data)
    temporary.replace(path)


def write_mail(folder: Path, mail: Mail) -> Path:
    path = folder / f"{_name(mail.message_id)}.eml"
    _write(path, bytes(to_email(mail)))
    return path


def write_webhook(folder: Path, key: str, text: str) -> Path:
    path = folder / f"{_name(key)}.json"
    _write(path, json.dumps({"text": text}, indent=2).encode() + b"\n")
    return path
