import re
from pathlib import Path

import pytest

from pipeline.config.errors import ConfigurationError
from pipeline.config.paths import DBT_PROJECT_DIR
from pipeline.config.settings import DEFAULT_API_BASE_URL, DEFAULT_DUCKDB_MEMORY_LIMIT, Secret, load_settings


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


@pytest.mark.parametrize(
    "org_id",
    [
        "../../v2/x",
        "..",
        ".",
        "org/../x",
        "a b",
        "org?x=1",
        "a#b",
        "%2e%2e",
        "-a",
        "a.",
        "org.1",
        "x" * 200,
        "é",
    ],
)
def test_an_org_id_that_is_no_id_is_refused(org_id: str) -> None:
    with pytest.raises(ConfigurationError, match="is not an org id"):
        load_settings({"ATLASSIAN_ORG_ID": org_id, "ATLASSIAN_API_KEY": "k"})


@pytest.mark.parametrize("org_id", ["..", "a/b", "x" * 200])
def test_a_malformed_org_id_is_a_one_line_configuration_error(org_id: str) -> None:
    with pytest.raises(ConfigurationError) as caught:
        load_settings({"ATLASSIAN_ORG_ID": org_id, "ATLASSIAN_API_KEY": "k"})
    assert "ATLASSIAN_ORG_ID" in str(caught.value) and "\n" not in str(caught.value)
    assert caught.value.exit_code == 2


@pytest.mark.parametrize(
    "url",
    [
        "http://u:pw123secret@127.0.0.1:1/admin",
        "https://u:pw123secret@api.atlassian.com/admin",
        "https://pw123secret@api.atlassian.com/admin",
        "https://api.atlassian.com:pw123secret@/admin",
    ],
)
def test_a_base_url_with_credentials_is_refused_without_echoing_them(url: str) -> None:
    with pytest.raises(ConfigurationError) as caught:
        load_settings({"ATLASSIAN_API_BASE_URL": url})
    message = str(caught.value)
    assert "ATLASSIAN_API_BASE_URL" in message and "pw123secret" not in message and "\n" not in message
    assert caught.value.exit_code == 2


@pytest.mark.parametrize(
    "url", ["http://api.atlassian.com/admin", "http://10.0.0.8:8080/admin", "http://127.example/x"]
)
def test_cleartext_http_is_refused_except_to_this_machine(url: str) -> None:
    with pytest.raises(ConfigurationError, match="unencrypted") as caught:
        load_settings({"ATLASSIAN_API_BASE_URL": url})
    assert caught.value.exit_code == 2


@pytest.mark.parametrize(
    "url", ["http://127.0.0.1:8080/admin", "http://localhost:1/admin", "http://[::1]:9/admin"]
)
def test_cleartext_http_to_loopback_is_accepted_for_the_simulator(url: str) -> None:
    assert load_settings({"ATLASSIAN_API_BASE_URL": url}).api_base_url == url


@pytest.mark.parametrize(("command", "org_id"), [("run", ".."), ("doctor", "../../v2/x")])
def test_a_path_as_org_id_exits_2_with_one_line(
    command: str, org_id: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from pipeline.cli import main

    monkeypatch.setenv("ATLASSIAN_ORG_ID", org_id)
    monkeypatch.setenv("ATLASSIAN_API_KEY", "k")
    assert main([command]) == 2
    [line] = capsys.readouterr().err.splitlines()
    assert line.startswith(f"seatwatch: error: ATLASSIAN_ORG_ID {org_id!r} is not an org id")


def test_real_org_ids_are_accepted() -> None:
    ids = "mk7f6nqb-x3lh-ec5f-ezxz-ny2jz0xv4f9o,0a1b2c3d-4e5f-6789-abcd-ef0123456789,org_1b"
    settings = load_settings({"ATLASSIAN_ORG_ID": ids, "ATLASSIAN_API_KEY": "k"})
    assert len(settings.orgs) == 3


@pytest.mark.parametrize("name", ["SEATWATCH_WAIT_TIMEOUT_SECONDS", "SEATWATCH_RATE_LIMIT_MAX_WAIT_SECONDS"])
def test_wait_limits_are_seconds(name: str) -> None:
    assert getattr(load_settings({name: "30"}), name.removeprefix("SEATWATCH_").lower()) == 30.0
    for bad in ("-1", "soon", "inf", "nan"):
        with pytest.raises(ConfigurationError, match=name):
            load_settings({name: bad})


def test_the_publish_destination_and_dataset() -> None:
    assert load_settings({}).publish_destination is None
    assert load_settings({}).publish_dataset == "seatwatch"
    settings = load_settings(
        {"SEATWATCH_PUBLISH_DESTINATION": "postgres", "SEATWATCH_PUBLISH_DATASET": "team"}
    )
    assert (settings.publish_destination, settings.publish_dataset) == ("postgres", "team")
    for env in (
        {"SEATWATCH_PUBLISH_DESTINATION": "postgresql://me:pw@db/x"},
        {"SEATWATCH_PUBLISH_DATASET": "Team-Data"},
    ):
        with pytest.raises(ConfigurationError) as error:
            load_settings(env)
        assert "pw@" not in str(error.value)


def test_duckdb_memory_limit_default_sizes_and_shares() -> None:
    assert load_settings({}).duckdb_memory_limit == DEFAULT_DUCKDB_MEMORY_LIMIT == "256MB"
    for value in ("512MB", "1.5GiB", "2gb", "80%"):
        assert load_settings({"SEATWATCH_DUCKDB_MEMORY_LIMIT": value}).duckdb_memory_limit == value


@pytest.mark.parametrize("value", ["lots", "512", "-1GB", "1GB; drop table x"])
def test_a_memory_limit_that_is_no_size_is_a_one_line_configuration_error(value: str) -> None:
    with pytest.raises(ConfigurationError) as error:
        load_settings({"SEATWATCH_DUCKDB_MEMORY_LIMIT": value})
    assert "SEATWATCH_DUCKDB_MEMORY_LIMIT" in str(error.value) and "\n" not in str(error.value)


def test_dbt_run_by_hand_falls_back_to_the_same_memory_limit() -> None:
    """profiles.yml repeats the default for dbt run by hand (a profile sees no Python): the two agree."""
    profile = (DBT_PROJECT_DIR / "profiles.yml").read_text()
    [fallback] = re.findall(r"env_var\('SEATWATCH_DUCKDB_MEMORY_LIMIT', ''\) or '([^']+)'", profile)
    assert fallback == DEFAULT_DUCKDB_MEMORY_LIMIT
