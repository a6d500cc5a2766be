"""The patches of Dagster's and dagster-dbt's internals (pipeline/runtime/patches.py): each one does its job,
and a strict xfail test runs the upstream code and shows the behaviour it works around. Once upstream changes
that behaviour, its test passes and fails the suite (XPASS): remove the patch or re-check it.

The xfail tests expect AssertionError only: anything else (a missing file, a probe that crashed) fails them
for real instead of passing as the expected failure.
"""

from __future__ import annotations

import dataclasses
import importlib.metadata
import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from types import FrameType, SimpleNamespace
from typing import Any

import pytest
from dagster_dbt import DbtCliResource
from packaging import version

from pipeline.defs.resources import SeatwatchDbtCliResource
from pipeline.runtime import patches
from pipeline.runtime.children import guarded_popen
from tests.support.dbt_runner import PROJECT_DIR

PLANTED_KEY = "planted-key-Vb7q2"
FAKE_DBT = """#!{python}
import json, os, sys
with open({record!r}, "a") as out:
    out.write(json.dumps({{"argv": sys.argv[1:], "env": sorted(os.environ)}}) + "\\n")
print("Core: 1.0.0")
"""


class FakeDbt:
    """An executable that records how it was called (its arguments and the names of its environment's
    variables) and prints a dbt version."""

    def __init__(self, folder: Path) -> None:
        self.path, self.record = folder / "dbt", folder / "dbt-calls.jsonl"
        self.path.write_text(FAKE_DBT.format(python=sys.executable, record=str(self.record)))
        self.path.chmod(0o755)

    def calls(self) -> list[dict[str, Any]]:
        if not self.record.exists():
            return []
        return [json.loads(line) for line in self.record.read_text().splitlines()]


@pytest.fixture
def fake_dbt(tmp_path: Path) -> FakeDbt:
    return FakeDbt(tmp_path)


def _resource(cls: type[DbtCliResource], fake_dbt: FakeDbt) -> DbtCliResource:
    return cls(project_dir=str(PROJECT_DIR), dbt_executable=str(fake_dbt.path))


def _invoke(resource: DbtCliResource, tmp_path: Path) -> Any:
    invocation = resource.cli(["parse"], target_path=tmp_path / "target")
    invocation.process.wait()
    return invocation


def _xfail(reason: str) -> pytest.MarkDecorator:
    return pytest.mark.xfail(strict=True, raises=AssertionError, reason=reason)


# The registry.


def test_every_patch_is_checked_on_the_installed_version_and_has_its_strict_xfail_test() -> None:
    for patch in patches.PATCHES:
        patch.check()
        [mark] = [mark for mark in getattr(globals()[patch.test], "pytestmark", []) if mark.name == "xfail"]
        assert mark.kwargs["strict"] is True, patch.test


def test_a_version_the_patch_was_not_checked_on_is_one_line_naming_the_package_and_versions() -> None:
    unchecked = dataclasses.replace(patches.CLAIM_CHECK, checked=("1.0.1", "1.0.2"))
    installed = importlib.metadata.version("dagster")
    with pytest.raises(patches.UncheckedPatchError) as raised:
        unchecked.check()
    assert str(raised.value) == (
        f"Seatwatch patches {patches.CLAIM_CHECK.name}, checked on dagster 1.0.1, 1.0.2 only, but dagster "
        f"{installed} is installed: install the locked versions (uv sync), or re-check the patch "
        "(pipeline/runtime/patches.py) and add the version."
    )


def test_a_patched_attribute_that_is_gone_is_one_line() -> None:
    gone = dataclasses.replace(patches.CLAIM_CHECK, path="InstanceConcurrencyContext.gone")
    with pytest.raises(patches.UncheckedPatchError, match=r"Context\.gone, which dagster \S+ no longer has"):
        gone.check()


def test_an_override_must_subclass_and_define_what_it_overrides() -> None:
    with pytest.raises(TypeError, match=r"does not override dagster_dbt\.DbtCliResource\._cli_version"):

        @patches.overrides(patches.DBT_CLI_VERSION)
        class Plain(DbtCliResource):
            pass


# CLAIM_CHECK: a step waiting for a pool slot sleeps until its next check instead of spinning.


def _waiting(seconds: float) -> SimpleNamespace:
    return SimpleNamespace(_pending_claims={"step"}, _pending_timeouts={"step": time.time() + seconds})


def test_the_wait_until_the_next_claim_check_is_positive() -> None:
    patches.apply_dagster_patches()
    context_class = patches.CLAIM_CHECK.owner()  # dagster's InstanceConcurrencyContext
    assert 4.0 < context_class.interval_to_next_pending_claim_check(_waiting(5.0)) <= 5.0
    assert context_class.interval_to_next_pending_claim_check(_waiting(-1.0)) == 0.0


@_xfail("dagster returns min([0, *intervals]), never positive: a step waiting for a pool never sleeps")
def test_upstream_waits_until_the_next_claim_check() -> None:
    interval = patches.upstream(patches.CLAIM_CHECK)(_waiting(5.0))
    assert 4.0 < interval <= 5.0


# INTERRUPT_SIGNAL: SIGTERM stays with the handler seatwatch installed while Dagster captures SIGINT.


@pytest.fixture
def saved_signal_handlers() -> Iterator[None]:
    saved = {signum: signal.getsignal(signum) for signum in (signal.SIGINT, signal.SIGTERM)}
    yield
    for signum, handler in saved.items():
        signal.signal(signum, handler)


def _seatwatchs(signum: int, frame: FrameType | None) -> None:
    """Stands for seatwatch's handler (pipeline.runtime.signals.stoppable)."""


def _dagsters(signum: int, frame: FrameType | None) -> None:
    """Stands for the handler Dagster installs during a run."""


def test_sigterm_stays_seatwatchs_while_dagster_captures_interrupts(saved_signal_handlers: None) -> None:
    from dagster._utils.interrupts import capture_interrupts

    patches.keep_sigterm_during_runs()
    signal.signal(signal.SIGINT, _seatwatchs)
    signal.signal(signal.SIGTERM, _seatwatchs)
    with capture_interrupts():
        assert signal.getsignal(signal.SIGINT) is not _seatwatchs  # Dagster's, for the run
        assert signal.getsignal(signal.SIGTERM) is _seatwatchs
    assert signal.getsignal(signal.SIGINT) is _seatwatchs


@_xfail("dagster points SIGTERM at its own SIGINT handler whenever it replaces that handler")
def test_upstream_leaves_sigterm_alone_while_it_captures_interrupts(saved_signal_handlers: None) -> None:
    signal.signal(signal.SIGTERM, _seatwatchs)
    patches.upstream(patches.INTERRUPT_SIGNAL)(_dagsters)
    if signal.getsignal(signal.SIGINT) is not _dagsters:
        pytest.fail("upstream no longer sets the SIGINT handler it is given: re-check the patch")
    assert signal.getsignal(signal.SIGTERM) is _seatwatchs


# DBT_SUBPROCESS: dagster-dbt starts dbt through the guard (allow-listed environment, parent-death signal).
# The end-to-end check, a real run's dbt: tests/runtime/test_crash_e2e.py.


def test_dagster_dbt_starts_dbt_through_the_guard(
    fake_dbt: FakeDbt, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import pipeline.definitions  # noqa: F401 (applies the patches)

    assert patches.DBT_SUBPROCESS.owner().subprocess.Popen is guarded_popen
    monkeypatch.setenv("ATLASSIAN_API_KEY", PLANTED_KEY)
    _invoke(_resource(SeatwatchDbtCliResource, fake_dbt), tmp_path)
    [call] = fake_dbt.calls()
    assert call["argv"][0] == "parse"
    assert [name for name in call["env"] if name.startswith("ATLASSIAN_")] == []


@_xfail("dagster-dbt gives dbt the whole parent environment, the API key included, and has no hook for it")
def test_upstream_keeps_the_api_key_from_dbt(
    fake_dbt: FakeDbt, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    unguarded = patches.upstream(patches.DBT_SUBPROCESS)  # the subprocess module itself
    monkeypatch.setattr(patches.DBT_SUBPROCESS.owner(), "subprocess", unguarded)
    monkeypatch.setenv("ATLASSIAN_API_KEY", PLANTED_KEY)
    _invoke(_resource(SeatwatchDbtCliResource, fake_dbt), tmp_path)
    [call] = fake_dbt.calls()
    assert "ATLASSIAN_API_KEY" not in call["env"]


# DBT_CLI_VERSION: the version of dbt-core comes from the installed package, not from `dbt --version`.


def test_the_dbt_version_comes_from_the_installed_package(fake_dbt: FakeDbt) -> None:
    resource = _resource(SeatwatchDbtCliResource, fake_dbt)
    assert resource._cli_version == version.parse(importlib.metadata.version("dbt-core"))
    assert fake_dbt.calls() == []


@_xfail("dagster-dbt runs `dbt --version` (which also asks pypi.org) before every invocation")
def test_upstream_knows_the_dbt_version_without_running_dbt(fake_dbt: FakeDbt) -> None:
    resource = _resource(DbtCliResource, fake_dbt)
    resource._cli_version  # noqa: B018 (a cached property: reading it is the call)
    assert fake_dbt.calls() == []


# DBT_CORE_ADAPTER: no dbt adapter in this process; dbt runs in its own.


def test_dbt_is_invoked_without_an_adapter_in_this_process(fake_dbt: FakeDbt, tmp_path: Path) -> None:
    resource = _resource(SeatwatchDbtCliResource, fake_dbt)
    assert _invoke(resource, tmp_path).adapter is None
    assert [call["argv"][0] for call in fake_dbt.calls()] == ["parse"]


# Run in a process of its own: the adapter it builds is global state of dbt (flags, adapters, event logger).
ADAPTER_PROBE = """
import json, sys
from pathlib import Path
from dagster_dbt import DbtCliResource
project, dbt, warehouse, target = sys.argv[1:]
resource = DbtCliResource(project_dir=project, dbt_executable=dbt)
args = ["parse", "--vars", json.dumps({"warehouse_path": warehouse})]
invocation = resource.cli(args, target_path=Path(target))
invocation.process.wait()
print(type(invocation.adapter).__name__)
"""


@_xfail("dagster-dbt builds a dbt adapter in the calling process (profile, project, macros) before each call")
def test_upstream_invokes_dbt_without_an_adapter_in_this_process(fake_dbt: FakeDbt, tmp_path: Path) -> None:
    warehouse, target = tmp_path / "warehouse.duckdb", tmp_path / "target"
    argv = [str(PROJECT_DIR), str(fake_dbt.path), str(warehouse), str(target)]
    probe = subprocess.run(  # noqa: S603 (a fixed argv)
        [sys.executable, "-c", ADAPTER_PROBE, *argv], capture_output=True, text=True, timeout=300, check=False
    )
    if probe.returncode != 0:
        pytest.fail(f"the probe failed: {probe.stderr[-2000:]}")
    assert probe.stdout.split()[-1] == "NoneType"


# COMPUTE_LOG_SUBPROCESS: the tail and the watcher Dagster's compute-log capture starts for every step get
# the allow-listed environment, never a credential.


def _tail_environments(path: Path) -> list[dict[str, str]]:
    from dagster._core.execution import compute_logs

    path.write_text("")
    with compute_logs.execute_posix_tail(str(path), sys.stdout) as pids:
        environments = []
        for pid in pids:
            raw = Path(f"/proc/{pid}/environ").read_bytes()
            environments.append(dict(item.split("=", 1) for item in raw.decode().split("\0") if "=" in item))
        # Stopped here rather than by Dagster's clean-up (SIGTERM, then up to 30 s of waiting): what this test
        # reads is their environment, and once, in a loaded suite, that wait ran out with the tail still
        # there (cause not found; no run's step has shown it).
        for pid in pids:
            os.kill(pid, signal.SIGKILL)
    return environments


def test_the_compute_log_tail_sees_no_credential(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    patches.apply_dagster_patches()
    monkeypatch.setenv("ATLASSIAN_API_KEY", PLANTED_KEY)
    monkeypatch.setenv("DESTINATION__POSTGRES__CREDENTIALS", f"postgresql://u:{PLANTED_KEY}@h/db")
    environments = _tail_environments(tmp_path / "step.out")
    assert len(environments) == 2 and all(environments)
    assert all(PLANTED_KEY not in value for env in environments for value in env.values())


@_xfail("Dagster starts each step's compute-log tail and watcher with the whole environment, credentials too")
def test_upstream_gives_the_compute_log_tail_the_whole_environment(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(
        patches.COMPUTE_LOG_SUBPROCESS.owner(), "subprocess", patches.upstream(patches.COMPUTE_LOG_SUBPROCESS)
    )
    monkeypatch.setenv("ATLASSIAN_API_KEY", PLANTED_KEY)
    environments = _tail_environments(tmp_path / "step.out")
    assert all(env.get("ATLASSIAN_API_KEY") != PLANTED_KEY for env in environments)
