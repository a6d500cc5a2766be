"""Dagster concurrency pools."""

# Every step that opens the warehouse file claims this pool. DuckDB allows one writer and no reader next to
# it, and the project-local dagster.yaml limits every pool to one slot.
DUCKDB_POOL = "duckdb_writer"
