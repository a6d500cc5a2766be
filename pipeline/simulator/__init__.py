"""Embedded simulator of the Atlassian Cloud Admin API: a deterministic synthetic world served over HTTP.

``model.py`` (data), ``world.py`` (the ``World`` and its clock), ``generate.py`` / ``evolve.py`` (how the
world comes about and changes day by day), ``truth.py`` (what the warehouse should conclude). Importing
this package reads no environment and touches no network.
"""
