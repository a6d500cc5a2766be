"""Reclaiming seats through the Admin API: the plan, the journal, apply and undo (``seatwatch reclaim``).

One code path for the CLI (:mod:`pipeline.commands.reclaim`) and the Dagster job
(:mod:`pipeline.defs.reclaim`): both call :func:`pipeline.reclaim.apply.apply_plan`. The safety model is in
the README ("Reclaiming seats") and docs/reclaim.md.
"""
