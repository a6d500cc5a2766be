"""Reading and validating request parameters the way the Admin API does.

Array query parameters are accepted both as repeated keys (``groupIds=a&groupIds=b``) and comma-separated
(``groupIds=a,b``), because the encoding the real API expects is unconfirmed and clients use both. Bad values
raise the endpoint family's 400 (see :class:`~pipeline.simulator.errors.Codes`).
"""

from __future__ import annotations

import json
from collections.abc import Collection
from typing import Any

from starlette.datastructures import QueryParams
from starlette.requests import Request

from pipeline.simulator.errors import Codes


def query_list(params: QueryParams, name: str) -> list[str]:
    return [part.strip() for raw in params.getlist(name) for part in raw.split(",") if part.strip()]


def check_enum(values: list[str], allowed: Collection[str], name: str, codes: Codes) -> list[str]:
    unknown = [value for value in values if value not in allowed]
    if unknown:
        raise codes.bad_request(
            f"{name} has unknown value(s) {', '.join(unknown)}; allowed: {', '.join(allowed)}."
        )
    return values


def parse_limit(raw: Any, *, default: int, maximum: int, codes: Codes, clamp: bool = False) -> int:
    """A page size: an integer from 1 to ``maximum`` (above it: 400, or ``maximum`` when ``clamp``)."""
    if raw is None or raw == "":
        return default
    if isinstance(raw, bool):
        raise codes.bad_request("limit must be an integer.")
    try:
        limit = int(raw)
    except (TypeError, ValueError):
        raise codes.bad_request(f"limit must be an integer (got {raw!r}).") from None
    if limit < 1:
        raise codes.bad_request(f"limit must be at least 1 (got {limit}).")
    if limit > maximum:
        if clamp:
            return maximum
        raise codes.bad_request(f"limit must be at most {maximum} (got {limit}).")
    return limit


def parse_bool(raw: str | None, name: str, codes: Codes) -> bool | None:
    if raw is None or raw == "":
        return None
    lowered = raw.lower()
    if lowered not in ("true", "false"):
        raise codes.bad_request(f"{name} must be true or false (got {raw!r}).")
    return lowered == "true"


async def json_body(request: Request, codes: Codes) -> dict[str, Any]:
    """The request's JSON object; an empty body is an empty object (every field is optional)."""
    raw = await request.body()
    if not raw.strip():
        return {}
    try:
        body = json.loads(raw)
    except ValueError:
        raise codes.bad_request("The request body is not valid JSON.") from None
    if not isinstance(body, dict):
        raise codes.bad_request("The request body must be a JSON object.")
    return body


def body_list(body: dict[str, Any], name: str, codes: Codes) -> list[str]:
    value = body.get(name)
    if value is None:
        return []
    if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
        raise codes.bad_request(f"{name} must be an array of strings.")
    return value


def body_str(body: dict[str, Any], name: str, codes: Codes) -> str | None:
    value = body.get(name)
    if value is not None and not isinstance(value, str):
        raise codes.bad_request(f"{name} must be a string.")
    return value or None
