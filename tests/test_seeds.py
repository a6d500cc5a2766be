"""The seeds' one reader: ``doctor`` and reclaim's fresh read name a product the way the dbt models do."""

from __future__ import annotations

import pytest

from pipeline.config.seeds import SEEDS_DIR, exempt_accounts, product_aliases, product_key
from pipeline.doctor.checks import _normalised
from pipeline.reclaim.fresh import parse_fresh

SITE = "ari:cloud:jira::site/0f3c"


def _aliases_as_written() -> list[tuple[str, str]]:
    lines = (SEEDS_DIR / "product_aliases.csv").read_text().splitlines()[1:]
    return [tuple(line.split(",")) for line in lines if line]


@pytest.mark.parametrize("spelling", [str, str.upper, lambda key: f"  {key.title()} "])
def test_doctor_and_the_fresh_read_normalise_every_alias_alike(spelling) -> None:
    aliases = product_aliases()
    for alias, contract_key in _aliases_as_written():
        sent = spelling(alias)
        fresh = parse_fresh(
            {"accountStatus": "active"},
            {"product_access": [{"key": sent, "id": SITE, "last_active": "2026-12-01"}]},
            aliases,
        )
        assert fresh.unknown_keys == frozenset(), sent
        assert set(fresh.last_active) == {(contract_key, "0f3c")}
        assert _normalised([sent], aliases) == {sent: contract_key}


def test_an_unknown_key_is_unknown_to_both() -> None:
    aliases = product_aliases()
    fresh = parse_fresh(
        {"accountStatus": "active"},
        {"product_access": [{"key": "jira-rocket", "id": SITE, "last_active": "2026-12-01"}]},
        aliases,
    )
    assert fresh.unknown_keys == {"jira-rocket"}
    assert _normalised(["jira-rocket"], aliases) == {"jira-rocket": None}
    assert product_key("jira-rocket", aliases) is None


def test_exempt_accounts_are_read_from_the_seed() -> None:
    listed = {
        line.split(",")[0].strip()
        for line in (SEEDS_DIR / "exempt_accounts.csv").read_text().splitlines()[1:]
        if line.split(",")[0].strip()
    }
    assert exempt_accounts() == listed
