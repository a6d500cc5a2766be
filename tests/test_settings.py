from pathlib import Path

import pytest

from pipeline.config.errors import ConfigurationError
from pipeline.config.settings import DEFAULT_API_BASE_URL, Secret, load_settings


def test_no_configuration_means_demo(tmp_path: Path) -> None:
    settings = load_settings({"SEATWATCH_DATA_DIR": str(tmp_path)})
    assert settings.is_demo
    assert settings.api_base_url == DEFAULT_API_BASE_URL
    assert settings.activity_lag_hours == 24
    assert settings.warehouse_path == tmp_path / "warehouse.duckdb"
    assert settings.published_path == tmp_path / "seatwatch.duckdb"


def test_several_orgs_with_a_per_org_key_override() -> None:
    settings = load_settings(
        {
            "ATLASSIAN_ORG_ID": "org-a, org-b",
            "ATLASSIAN_API_KEY": "shared-key",
            "ATLASSIAN_API_KEY__org-b": "b-key",
            "ATLASSIAN_API_BASE_URL": "http://127.0.0.1:9/admin/",
        }
    )
    assert [org.org_id for org in settings.orgs] == ["org-a", "org-b"]
    assert [org.api_key.reveal() for org in settings.orgs] == ["shared-key", "b-key"]
    assert settings.api_base_url == "http://127.0.0.1:9/admin"


@pytest.mark.parametrize(
    ("env", "names"),
    [
        ({"ATLASSIAN_API_KEY": "k"}, "ATLASSIAN_ORG_ID"),
        ({"ATLASSIAN_ORG_ID": "o"}, "ATLASSIAN_API_KEY"),
        ({"ATLASSIAN_ORG_ID": "a,,b", "ATLASSIAN_API_KEY": "k"}, "ATLASSIAN_ORG_ID"),
        ({"ATLASSIAN_ORG_ID": "a,a", "ATLASSIAN_API_KEY": "k"}, "ATLASSIAN_ORG_ID"),
        ({"SEATWATCH_ACTIVITY_LAG_HOURS": "soon"}, "SEATWATCH_ACTIVITY_LAG_HOURS"),
        ({"SEATWATCH_ACTIVITY_LAG_HOURS": "-3"}, "SEATWATCH_ACTIVITY_LAG_HOURS"),
        ({"ATLASSIAN_API_BASE_URL": "api.atlassian.com"}, "ATLASSIAN_API_BASE_URL"),
        ({"SEATWATCH_LAST_ACTIVE_STRATEGY": "fast"}, "SEATWATCH_LAST_ACTIVE_STRATEGY"),
    ],
)
def test_bad_configuration_is_one_line_naming_the_variable(env: dict[str, str], names: str) -> None:
    with pytest.raises(ConfigurationError) as caught:
        load_settings(env)
    message = str(caught.value)
    assert names in message
    assert "\n" not in message
    assert caught.value.exit_code == 2


def test_secret_never_shows_itself() -> None:
    secret = Secret("super-secret-value")
    settings = load_settings({"ATLASSIAN_ORG_ID": "o", "ATLASSIAN_API_KEY": "super-secret-value"})
    for text in (repr(secret), str(secret), f"{secret}", repr(settings), str(settings.orgs)):
        assert "super-secret-value" not in text
    assert secret.reveal() == "super-secret-value"


@pytest.mark.parametrize("org_id", ["../../v2/x", "..", "org/../x", "a b", "org?x=1", "%2e%2e"])
def test_an_org_id_that_is_no_id_is_refused(org_id: str) -> None:
    with pytest.raises(ConfigurationError, match="is not an org id"):
        load_settings({"ATLASSIAN_ORG_ID": org_id, "ATLASSIAN_API_KEY": "k"})
