"""Dagster definitions for Seatwatch, one module per concern.

``pipeline/definitions.py`` assembles them. Nothing here reads the environment or calls the network at
import time; the one exception, preparing the dbt manifest, is explained in
:mod:`pipeline.defs.dbt_project`.
"""
