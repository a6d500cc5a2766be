"""Only what Dagster loads, one module per concern: assets (``ingest``, ``transform``, ``publish``), checks,
the schedule, resources, translators, pools and the dbt project.

``pipeline/definitions.py`` assembles them. Nothing here reads the environment or calls the network at
import time (settings arrive as the ``settings`` resource when a run starts); the one exception, preparing
the dbt manifest, is explained in :mod:`pipeline.defs.dbt_project`.
"""
