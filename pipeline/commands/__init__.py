"""``seatwatch`` subcommands; each module exposes ``register(subparsers)``."""
