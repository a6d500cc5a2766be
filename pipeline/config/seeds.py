"""The dbt seeds and vars that Python reads too (``doctor``, reclaim's fresh read), read in one place and
normalised as the dbt models normalise them, so a product key or an admin role means the same thing in SQL
and in Python.

The models take the key an endpoint sent, trim and lower-case it (macro ``api_product_key``), then look it up
in ``product_aliases`` (macro ``with_product_identity``); :func:`product_key` is that rule. The seeds are read
when called, never at import, so an account exempted after a plan was made is seen at apply time.
"""

from __future__ import annotations

import csv
from typing import Any

import yaml

from pipeline.config.paths import DBT_PROJECT_DIR

SEEDS_DIR = DBT_PROJECT_DIR / "seeds"


def _rows(name: str) -> list[dict[str, str]]:
    with (SEEDS_DIR / name).open(newline="", encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


def api_product_key(key: str) -> str:
    """The key as the models compare it: trimmed, lower case."""
    return key.strip().lower()


def product_aliases() -> dict[str, str]:
    """Every key the Admin API uses for a product (normalised) → the data contract's product key."""
    return {api_product_key(row["alias"]): row["product_key"].strip() for row in _rows("product_aliases.csv")}


def product_key(key: str, aliases: dict[str, str]) -> str | None:
    """The contract's product key for what an endpoint sent, or None when the seed does not know it."""
    return aliases.get(api_product_key(key))


def exempt_accounts() -> set[str]:
    """Accounts reclaim never touches (``exempt_accounts.csv``)."""
    return {row["account_id"].strip() for row in _rows("exempt_accounts.csv") if row.get("account_id")}


def dbt_var(name: str) -> Any:
    """A var of ``dbt_project.yml`` (e.g. ``admin_role_ids``), read when called."""
    with (DBT_PROJECT_DIR / "dbt_project.yml").open(encoding="utf-8") as handle:
        return (yaml.safe_load(handle).get("vars") or {})[name]
