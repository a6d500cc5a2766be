"""The application layer beside the CLI: one module per ``seatwatch`` subcommand (each exposes
``register(subparsers)``), the in-process run of the Dagster job (``runner``), the project-local Dagster home
(``dagster_home``) and the terminal progress (``progress``)."""
