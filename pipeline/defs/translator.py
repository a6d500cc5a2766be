"""How dlt resources and dbt nodes become Dagster assets: keys, groups, and the links between them.

Keys:

* dlt: dagster-dlt's default ``dlt_atlassian_admin_<resource>`` (dbt sources point at these keys through
  ``meta.dagster.asset_key``, so they are part of the contract with ``dbt_project/``);
* dbt models, seeds and snapshots: ``[<schema>, <name>]``, i.e. the DuckDB relation they build, whose
  schema is the layer;
* sources keep the key their ``meta.dagster.asset_key`` names, which is how dbt reads after dlt.

Groups follow the layers: ``raw`` → ``staging`` → ``intermediate`` → ``marts`` → ``published``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import dagster as dg
from dagster_dbt import DagsterDbtTranslator, DagsterDbtTranslatorSettings
from dagster_dlt import DagsterDltTranslator
from dagster_dlt.translator import DltResourceTranslatorData

from pipeline.readers.trust import TRUST_CHECK
from pipeline.sources.atlassian_admin import SOURCE_NAME
from pipeline.sources.atlassian_admin.schema import RAW_TABLES

RAW_GROUP = "raw"
MARTS_GROUP = "marts"
PUBLISHED_GROUP = "published"


_DLT_KEY_PREFIX = f"dlt_{SOURCE_NAME}_"


def dlt_asset_key(resource_name: str) -> dg.AssetKey:
    return dg.AssetKey(_DLT_KEY_PREFIX + resource_name)


def dlt_resource_name(key: dg.AssetKey) -> str:
    return key.path[-1].removeprefix(_DLT_KEY_PREFIX)


def _quoted(columns: Any) -> str:
    names = columns if isinstance(columns, list) else [columns]
    return ", ".join(f"`{name}`" for name in names)


# What each generic test the project uses checks, in words; describe_test fills in its arguments.
_TEST_SENTENCES = {
    "not_null": "{column} is never null.",
    "unique": "{column} never repeats.",
    "accepted_values": "{column} is one of: {values}.",
    "primary_key": "{columns} identify a row: never null, never repeated.",
    "expression_is_true": "Every row satisfies `{expression}`.",
    "has_parent": "Every row's {columns} exists in {to}.",
    "relationships": "Every {column} exists in {to}.{field}.",
}


def describe_test(test: Mapping[str, Any]) -> str:
    """A sentence for a dbt data test from its generic test and arguments (``test_metadata``)."""
    metadata = test.get("test_metadata") or {}
    kwargs = metadata.get("kwargs") or {}
    name = metadata.get("name")
    if name in _TEST_SENTENCES:
        return _TEST_SENTENCES[name].format(
            column=_quoted(kwargs.get("column_name")),
            columns=_quoted(kwargs.get("columns", [])),
            values=", ".join(map(str, kwargs.get("values", []))),
            expression=kwargs.get("expression"),
            to=kwargs.get("to"),
            field=kwargs.get("field"),
        )
    if name:
        return f"dbt test {name}({', '.join(f'{k}={v}' for k, v in kwargs.items() if k != 'model')})."
    path = test.get("original_file_path")
    return f"dbt test {test.get('name')}: passes when its query ({path}) finds no rows."


class SeatwatchDltTranslator(DagsterDltTranslator):
    def get_asset_spec(self, data: DltResourceTranslatorData) -> dg.AssetSpec:
        spec = super().get_asset_spec(data)
        # dagster-dlt gives every resource an upstream `atlassian_admin_<resource>` key that nothing
        # produces; the API is not an asset here, so those keys would only show as dangling nodes.
        # dagster-dlt describes a resource by its function's docstring, which a transformer (the resources
        # fed by user_pages and org_groups) does not have: the raw schema says what each table holds.
        table = RAW_TABLES.get(data.resource.name)
        description = f"raw.{data.resource.name}: {table.description}" if table else spec.description
        return spec.replace_attributes(deps=[], group_name=RAW_GROUP, description=description)


class SeatwatchDbtTranslator(DagsterDbtTranslator):
    def __init__(self) -> None:
        super().__init__(
            settings=DagsterDbtTranslatorSettings(
                # `raw.users` and `raw.user_snapshots` both come from the dlt `users` resource, so two
                # dbt sources name the same asset key.
                enable_duplicate_source_asset_keys=True,
            )
        )

    # `schema` is the schema dbt builds the node in (dbt_project.yml sets one per layer folder; seeds go to
    # staging), so key and group read like the DuckDB relation.
    def get_asset_key(self, dbt_resource_props: Mapping[str, Any]) -> dg.AssetKey:
        if dbt_resource_props["resource_type"] == "source":
            return super().get_asset_key(dbt_resource_props)  # meta.dagster.asset_key: the dlt asset
        return dg.AssetKey([dbt_resource_props["schema"], dbt_resource_props["name"]])

    def get_group_name(self, dbt_resource_props: Mapping[str, Any]) -> str:
        if dbt_resource_props["resource_type"] == "source":
            return RAW_GROUP
        return dbt_resource_props["schema"]

    def get_asset_check_spec(
        self, asset_spec: dg.AssetSpec, manifest: Mapping[str, Any], unique_id: str, project: Any
    ) -> dg.AssetCheckSpec | None:
        spec = super().get_asset_check_spec(asset_spec, manifest, unique_id, project)
        if spec is None:
            return spec
        # The trust check fails the run (severity ERROR, `seatwatch run` exits 1) but must not block: the
        # marts already carry no cleanup_ready row for an untrusted product, and publishing them replaces a
        # copy that may still hold yesterday's unsafe plan.
        if spec.name == TRUST_CHECK:
            spec = spec._replace(blocking=False)
        if spec.description:
            return spec
        # dagster-dbt only reads `meta.description`: without this every dbt test says "No description".
        test = manifest["nodes"][unique_id]
        return spec._replace(description=(test.get("description") or "").strip() or describe_test(test))
