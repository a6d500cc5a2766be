"""``seatwatch docs``: the dbt documentation of the published tables, built offline and served on loopback.

``build`` generates dbt's single-file static site against a private copy of the published file (so the
catalog shows exactly the tables and types analysts see, and no reader is ever locked out); ``command``
writes it to a folder or serves it.
"""
