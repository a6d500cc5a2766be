"""Process-level safety of a run: one Dagster instance per data folder, one writer at a time, recovery from
runs that died, clean stops on signals, and child processes that die with the run.

These modules sit between the commands and the Dagster definitions: they know about processes, files and
the Dagster instance, never about the API or the models. The design is in docs/crash-safety.md.
"""
