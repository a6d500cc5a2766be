"""Why reclaim was stopped: the products ``int_products__trust`` does not trust, as one line for a person.

The blocking dbt test ``products_are_trusted`` fails the run; this reads the model behind it so that
``seatwatch run`` can name the cause instead of printing the test's metadata.
"""

from __future__ import annotations

from pathlib import Path

import duckdb

from pipeline.warehouse import connect

TRUST_CHECK = "products_are_trusted"

_SQL = """
select org_id, string_agg(product_key, ', ' order by product_key), min(untrusted_reason)
from intermediate.int_products__trust
where not is_trusted
group by org_id, untrusted_reason
order by org_id
"""


def untrusted_products(warehouse: Path) -> list[tuple[str, str, str]]:
    """(org_id, products, reason) per org and reason; empty when the model is missing or all is trusted."""
    try:
        with connect(warehouse, read_only=True) as con:
            return [tuple(row) for row in con.execute(_SQL).fetchall()]
    except duckdb.Error:
        return []


def trust_line(rows: list[tuple[str, str, str]]) -> str:
    """One line: what is not trusted, why, and that the plan holds no cleanup_ready rows for it."""
    causes = "; ".join(f"org {org}, {products}: {reason}" for org, products, reason in rows)
    return (
        f"seatwatch: reclaim stopped, idle seats cannot be proven ({causes}); "
        "the published plan has no cleanup_ready rows for these products."
    )
