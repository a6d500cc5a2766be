"""The raw schema is written once (``schema.RAW_TABLES``, which the dbt test fixture is built from); the docs
table agrees (the dbt sources: tests/dbt/test_sources.py)."""

from __future__ import annotations

import re
from pathlib import Path

from pipeline.sources.atlassian_admin.schema import RAW_TABLES

DOCS = Path(__file__).parents[2] / "docs" / "architecture.md"


def _names(cell: str) -> list[str]:
    cell = cell.split(": ")[-1]  # "access listed by … (bulk strategy only): org_id, …"
    return [re.sub(r"\s*\(.*\)$", "", part.strip()) for part in cell.split(",")]


def _docs_tables() -> dict[str, tuple[tuple[str, ...], str, list[str]]]:
    text = DOCS.read_text().split("## Raw schema", 1)[1]
    tables = {}
    for line in text.splitlines():
        match = re.match(r"^\| `([a-z_]+)` \| ([^|]+) \| ([^|]+) \| ([^|]+) \|$", line)
        if match:
            name, keys, disposition, columns = match.groups()
            tables[name] = (tuple(_names(keys)), disposition.split()[0], columns.strip())
    return {
        name: (keys, disposition, _names(columns) if not columns.startswith("same columns as") else [])
        for name, (keys, disposition, columns) in tables.items()
    }


def test_the_docs_table_lists_every_raw_table_with_its_key_disposition_and_columns() -> None:
    docs = _docs_tables()
    assert set(docs) == set(RAW_TABLES)
    for name, spec in RAW_TABLES.items():
        keys, disposition, columns = docs[name]
        assert (keys, disposition) == (spec.primary_key, spec.write_disposition), name
        assert not columns or set(columns) == set(spec.columns), name
