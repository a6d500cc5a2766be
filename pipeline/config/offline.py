"""Switch off every phone-home of the stack before any of it runs.

dlt telemetry, dbt anonymous usage stats and Dagster telemetry would each try to reach the internet, which
this project must never do at run time except for the configured API (and each costs seconds when the
network is closed). DuckDB extension autoinstall is switched off in the dbt profile and the dlt destination.
``setdefault`` keeps a user's explicit choice.
"""

from __future__ import annotations

import os

OFFLINE_ENV = {
    "RUNTIME__DLTHUB_TELEMETRY": "false",
    "DO_NOT_TRACK": "1",
    "DBT_SEND_ANONYMOUS_USAGE_STATS": "false",
    "DAGSTER_DISABLE_TELEMETRY": "1",
    # dlt connections: never download DuckDB extensions at run time.
    "DESTINATION__DUCKDB__CREDENTIALS__GLOBAL_CONFIG": (
        '{"autoinstall_known_extensions": false, "autoload_known_extensions": false}'
    ),
    # Not a phone-home, but a dlt default set in the same place: dlt gzips its intermediate files, which
    # live seconds on the local disk; at 100,000 users that cost several CPU seconds (benchmarks/README.md).
    "DATA_WRITER__DISABLE_COMPRESSION": "true",
}


def apply_offline_defaults() -> None:
    for key, value in OFFLINE_ENV.items():
        os.environ.setdefault(key, value)
