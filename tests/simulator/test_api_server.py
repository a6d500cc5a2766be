"""The simulator through a real uvicorn thread on loopback: the same client code as against the real API."""

from __future__ import annotations

import httpx
import pytest

from pipeline.config.errors import ConfigurationError
from pipeline.simulator.server import start_in_thread
from pipeline.simulator.world import World
from tests.support.simulator_api import simulator_config


def test_served_over_http_with_faults_as_transport_errors() -> None:
    world = World(simulator_config(users=40))
    org_id = next(iter(world.orgs))
    with start_in_thread(world) as simulator:
        assert simulator.base_url.startswith("http://127.0.0.1:") and simulator.base_url.endswith("/admin")
        assert simulator.port != 0
        headers = {"Authorization": f"Bearer {world.api_key}"}
        with httpx.Client(base_url=simulator.base_url, headers=headers, timeout=5) as client:
            response = client.get(f"/v1/orgs/{org_id}/users")
            assert response.status_code == 200 and response.json()["meta"]["total"] > 0
            assert response.headers.get_list("date") == ["Mon, 02 Mar 2026 06:00:00 GMT"]
            assert "server" not in response.headers
            assert client.get("/v1/orgs", headers={"Authorization": "Bearer nope"}).status_code == 401

            client.post("/_simulator/faults", json={"drop_rate": 1})
            with pytest.raises(httpx.RemoteProtocolError):
                client.get("/v1/orgs")

            client.post("/_simulator/faults", json={"malformed_rate": 1})
            broken = client.get("/v1/orgs")
            assert broken.status_code == 200
            with pytest.raises(ValueError):
                broken.json()

            client.post("/_simulator/faults", json={"slow_rate": 1, "slow_seconds": 30})
            with pytest.raises(httpx.ReadTimeout):
                client.get("/v1/orgs", timeout=0.2)
    # Leaving the block stopped the server (promptly, even with a slow answer pending).
    with pytest.raises(httpx.ConnectError):
        httpx.get(f"{simulator.base_url}/v1/orgs", timeout=1)


@pytest.mark.parametrize("host", ["0.0.0.0", "192.168.1.10", "example.com"])  # noqa: S104 (refused)
def test_non_loopback_hosts_are_refused(host: str) -> None:
    with pytest.raises(ConfigurationError, match="loopback"):
        start_in_thread(World(simulator_config(users=5)), host=host)
