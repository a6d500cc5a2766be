"""The small guards of reclaim: a plan path that is no regular file, the real reason of a 403, a dry run of a
finished or expired plan, wait messages that name the holder, reasons cut at a word."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from pipeline.reclaim import calls as calls_module
from pipeline.reclaim.journal import REASON_LIMIT, Journal, clip
from pipeline.reclaim.plan import Filters, build_plan
from pipeline.runtime.locking import WarehouseBusyError, data_folder_lock
from tests.support.demo import DemoRun
from tests.support.reclaim_org import ReclaimOrg, reclaim_org, write_plan


@pytest.fixture
def org(demo_run: DemoRun, tmp_path: Path) -> Iterator[ReclaimOrg]:
    assert demo_run.exit_code == 0, demo_run.stderr
    with reclaim_org(demo_run.published, tmp_path) as made:
        yield made


def _small_plan(org: ReclaimOrg, actions: int, name: str = "small.json") -> Path:
    return write_plan(org.plan_path.with_name(name), build_plan(org.published, Filters(max_actions=actions)))


@pytest.mark.timeout(60)  # reading a FIFO blocks: a regression hangs instead of failing
def test_a_plan_path_that_is_no_regular_file_is_refused_before_the_data_folder_is_held(
    org: ReclaimOrg, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    fifo = tmp_path / "plan.fifo"
    os.mkfifo(fifo)
    monkeypatch.setenv("SEATWATCH_WAIT_TIMEOUT_SECONDS", "0")
    with data_folder_lock(org.data_dir, timeout_seconds=0, say=lambda line: None):  # another run holds it
        for extra in ([], ["--yes"]):
            code, out, err = org.cli(monkeypatch, "reclaim", "apply", "--plan", str(fifo), *extra)
            assert code == 2 and out == "", err
            assert "is not a regular file" in err and err.count("\n") == 1


def test_a_403_for_a_group_synced_from_an_identity_provider_says_so(
    org: ReclaimOrg, monkeypatch: pytest.MonkeyPatch
) -> None:
    code, _, err = org.apply_plan(monkeypatch, max_actions=1)
    assert code == 0, err
    [removed] = org.changed("remove_group_member")
    with Journal.open(org.settings.warehouse_path) as journal:
        [run] = journal.all_runs()
    # The group is synced from an identity provider since: the re-add is refused with 403.
    group = org.world.orgs[org.org_id].groups[removed.group_id]
    group.is_external_synced = True
    org.world.changed()

    code, out, err = org.cli(monkeypatch, "reclaim", "undo", "--apply-run", run.run_id[:8])

    assert code == 1 and err.count("\n") == 1
    assert "identity provider" in err and "may read but not" not in err
    assert [w.status for w in org.world.writes.log if w.action == "add_group_member"] == [403]
    assert "identity provider" in out  # the journal row's reason, printed


def test_a_dry_run_says_when_a_plan_is_finished_or_expired(
    org: ReclaimOrg, monkeypatch: pytest.MonkeyPatch
) -> None:
    small = _small_plan(org, 2)
    code, _, err = org.cli(monkeypatch, "reclaim", "apply", "--plan", str(small), "--yes")
    assert code == 0, err

    code, out, err = org.cli(monkeypatch, "reclaim", "apply", "--plan", str(small))
    assert code == 0, err
    assert out.startswith("Dry run: with --yes, this would act on 0 write(s)")
    assert "was handled already" in out and out.count(" done ") == 2 and "would do" not in out

    org.world.advance(2)
    code, out, err = org.cli(monkeypatch, "reclaim", "apply", "--plan", str(org.plan_path))
    assert code == 0, err
    assert out.startswith("Dry run: with --yes, this would act on 0 write(s)")
    assert "may be applied until" in out and "the API's date is" in out and "refused" in out
    assert "would do" not in out


def test_a_reclaim_run_names_itself_to_whoever_waits_for_the_data_folder(
    org: ReclaimOrg, monkeypatch: pytest.MonkeyPatch
) -> None:
    seen: list[str] = []
    real_call = calls_module._call

    def call_while_another_command_tries(api: Any, entry: Any) -> Any:
        try:
            with data_folder_lock(org.data_dir, timeout_seconds=0, say=seen.append):
                seen.append("got the lock")
        except WarehouseBusyError as error:
            seen.append(str(error))
        return real_call(api, entry)

    monkeypatch.setattr(calls_module, "_call", call_while_another_command_tries)
    for command in (("apply", "--plan", str(org.plan_path), "--yes", "--max", "1"),):
        code, _, err = org.cli(monkeypatch, "reclaim", *command)
        assert code == 0, err
    with Journal.open(org.settings.warehouse_path) as journal:
        [run] = journal.all_runs()
    code, _, err = org.cli(monkeypatch, "reclaim", "undo", "--apply-run", run.run_id[:8])
    assert code == 0, err
    assert [line.split(" (pid")[0] for line in seen] == ["seatwatch reclaim apply", "seatwatch reclaim undo"]


def test_reasons_are_cut_at_a_word_never_in_the_middle_of_one() -> None:
    text = "the product's user limit is reached: " + "free a seat then add the user back by hand " * 12
    clipped = clip(text)
    assert len(clipped) <= REASON_LIMIT and clipped.endswith("…")
    assert text.startswith(clipped[:-1]) and text[len(clipped) - 1] == " "
    assert clip("short reason") == "short reason"
    assert clip("x" * 400).endswith("…") and len(clip("x" * 400)) == REASON_LIMIT  # one long word: cut anyway
