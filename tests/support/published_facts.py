"""What the reclaim rules are checked against, read from a published copy: each candidate seat's lane, each
user's exemption, admin roles and account type, each group's multi-product, admin and IdP-synced flags.
Shared by tests/reclaim/test_reclaim.py and benchmarks/bench_reclaim.py."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from pipeline.warehouse import connect


@dataclass(frozen=True)
class PublishedFacts:
    lanes: dict[tuple[str, str, str], str | None]  # (account, product, site) → reclaim_lane
    users: dict[str, tuple]  # account → (is_exempt, is_org_admin, is_site_admin, account_type)
    groups: dict[str, tuple]  # group → (is_multi_product, is_admin_group, is_external_synced)


def read_published_facts(published: Path) -> PublishedFacts:
    with connect(published, read_only=True) as con:
        seats = "select account_id, product_key, site_id, reclaim_lane from marts.fct_user_product_access"
        users = "select account_id, is_exempt, is_org_admin, is_site_admin, account_type from marts.dim_users"
        groups = "select group_id, is_multi_product, is_admin_group, is_external_synced from marts.dim_groups"
        return PublishedFacts(
            lanes={(a, p, s): lane for a, p, s, lane in con.execute(seats).fetchall()},
            users={row[0]: row[1:] for row in con.execute(users).fetchall()},
            groups={row[0]: row[1:] for row in con.execute(groups).fetchall()},
        )
