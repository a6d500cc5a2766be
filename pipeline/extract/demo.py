"""The embedded demo org: with no credentials set, the simulator stands in for the Admin API."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import contextmanager

from pipeline.config.settings import OrgCredentials, Secret, Settings

DEMO_USERS = 500
DEMO_SEED = 7


@contextmanager
def api_settings(settings: Settings, *, users: int = DEMO_USERS, quiet: bool = False) -> Iterator[Settings]:
    """Yield settings that point at a real API, or at an embedded simulator when none is configured."""
    if not settings.is_demo:
        yield settings
        return
    # Imported lazily: a real-org run never needs the simulator.
    from pipeline.simulator.model import SimulatorConfig
    from pipeline.simulator.server import start_in_thread
    from pipeline.simulator.world import World

    world = World(SimulatorConfig(users=users, seed=DEMO_SEED, lag_hours=settings.activity_lag_hours))
    with start_in_thread(world) as simulator:
        if not quiet:
            print(
                f"No ATLASSIAN_ORG_ID set: using the embedded demo org ({users} users) served by the "
                f"simulator at {simulator.base_url}.",
                file=sys.stderr,
            )
        key = Secret(world.api_key)
        yield settings.with_orgs(
            simulator.base_url,
            tuple(OrgCredentials(org_id, key) for org_id in world.orgs),
            embedded_demo=True,
        )
