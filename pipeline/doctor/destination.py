"""``seatwatch doctor``'s row for the team's warehouse (``SEATWATCH_PUBLISH_DESTINATION``): can a run publish?

Read-only: it opens a connection through dlt (the destination's own credentials), asks whether the dataset
could be created, and writes nothing there; dlt's local pipeline state goes to a temporary folder, not the
data folder.
"""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Any

from pipeline.config.errors import ConfigurationError
from pipeline.config.settings import Settings
from pipeline.doctor.checks import FAIL, OK, WARN, Check
from pipeline.team_warehouse import INCOMING_SUFFIX, SWAPPED, make_pipeline, publish_error

NAME = "publish destination"

# Postgres: creating the two schemas needs CREATE on the database, unless they exist and the role may
# create tables in them.
_POSTGRES_RIGHTS = """
select has_database_privilege(current_database(), 'CREATE'),
       (select has_schema_privilege(oid, 'CREATE') from pg_namespace where nspname = %s),
       (select has_schema_privilege(oid, 'CREATE') from pg_namespace where nspname = %s),
       current_user, current_database()
"""


def _postgres_rights(client: Any, dataset: str) -> tuple[str, str]:
    [(database_create, live, incoming, user, database)] = client.execute_sql(
        _POSTGRES_RIGHTS, dataset, dataset + INCOMING_SUFFIX
    )
    where = f"database {database} as {user}"
    if database_create or (live and incoming):
        return OK, f"reachable ({where}); can create the schemas {dataset} and {dataset}{INCOMING_SUFFIX}"
    return FAIL, (
        f"reachable ({where}) but {user} cannot create the schemas {dataset} and {dataset}{INCOMING_SUFFIX}: "
        f"GRANT CREATE ON DATABASE {database} TO {user}, or create both schemas and grant CREATE on them."
    )


def diagnose_destination(settings: Settings) -> Check | None:
    """The row, or None when no destination is configured."""
    destination, dataset = settings.publish_destination, settings.publish_dataset
    if destination is None:
        return None
    try:
        with tempfile.TemporaryDirectory(prefix="seatwatch-doctor-") as scratch:
            pipeline = make_pipeline(Path(scratch), destination, dataset)
            try:
                client = pipeline.sql_client()
            except Exception:  # not a SQL destination (files, buckets): dlt says so when it loads
                return Check(NAME, WARN, f"{destination}: not a SQL destination; not checked before a run")
            with client:
                if destination in SWAPPED:
                    status, detail = _postgres_rights(client, dataset)
                    return Check(NAME, status, f"{destination}: {detail}")
                client.execute_sql("select 1")
                detail = f"{destination}: reachable; the right to create dataset {dataset} is not checked"
                return Check(NAME, OK, detail)
    except ConfigurationError as error:
        return Check(NAME, FAIL, str(error))
    except Exception as error:
        return Check(NAME, FAIL, str(publish_error(destination, dataset, error)))


def format_destination(check: Check) -> str:
    return f"publish destination: {'ready' if check.status != FAIL else 'problems found'}\n" + (
        f"  {check.name}  {check.status:<4}  {check.detail}"
    )
