"""The client's requests pay for no import: httpcore imports sniffio on every lock and event of a request,
and when sniffio is missing Python searches sys.path again each time (a failed import is not cached). That
search was a fifth of the per-user fan-out's CPU (benchmarks/README.md); pyproject.toml installs sniffio."""

from __future__ import annotations

import asyncio
import importlib.abc
import sys
from collections.abc import Sequence
from types import ModuleType

from pipeline.atlassian import AdminApi, AdminClient
from pipeline.config.secret import Secret
from pipeline.simulator.server import start_in_thread
from tests.support.extract import make_world


class _ImportSearches(importlib.abc.MetaPathFinder):
    """Records every module Python had to look for (imports of a module already loaded never get here)."""

    def __init__(self) -> None:
        self.names: list[str] = []

    def find_spec(self, name: str, path: Sequence[str] | None, target: ModuleType | None = None) -> None:
        self.names.append(name)


def test_requests_search_for_no_module() -> None:
    world = make_world(41)
    [org] = world.orgs
    first, *others = world.orgs[org].users
    with start_in_thread(world) as simulator:

        async def fan_out() -> dict[str, object]:
            async with AdminClient(simulator.base_url, Secret(world.api_key)) as client:
                api = AdminApi(client)
                await api.map_last_active_dates(org, [first])  # the first request imports what it needs
                searches = _ImportSearches()
                sys.meta_path.insert(0, searches)
                try:
                    await api.map_last_active_dates(org, others)
                finally:
                    sys.meta_path.remove(searches)
                return {"searched": searches.names, "calls": client.stats.calls}

        outcome = asyncio.run(fan_out())
    assert outcome["calls"] == 1 + len(others) >= 40  # the requests really went over the socket
    assert outcome["searched"] == []
