"""The dbt project's layout (dbt_project/README.md): one yml per model, beside it and named after it, holding
the model's columns, data tests and unit tests."""

from __future__ import annotations

from pathlib import Path

import yaml

MODELS = Path(__file__).parents[2] / "dbt_project" / "models"


def test_every_model_has_its_own_yml_with_its_unit_tests() -> None:
    for sql in MODELS.rglob("*.sql"):
        assert sql.with_suffix(".yml").is_file(), sql
    for yml in MODELS.rglob("*.yml"):
        spec = yaml.safe_load(yml.read_text())
        if yml.name.startswith("_"):  # a folder's sources, nothing else
            assert set(spec) == {"sources"}, yml
            continue
        assert [model["name"] for model in spec["models"]] == [yml.stem], yml
        assert {test["model"] for test in spec.get("unit_tests", [])} <= {yml.stem}, yml
