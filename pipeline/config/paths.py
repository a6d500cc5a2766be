"""Folders the orchestration owns, relative to the project checkout (never the working directory)."""

from __future__ import annotations

from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parents[2]
DBT_PROJECT_DIR = PROJECT_ROOT / "dbt_project"
WORKSPACE_FILE = PROJECT_ROOT / "workspace.yaml"
