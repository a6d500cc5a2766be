"""Benchmarks, each run as a module from the repository root: `uv run python -m benchmarks.NAME`."""
