"""Where an export may write, and how: nothing half-written, nothing but regular files replaced."""

from __future__ import annotations

import os
import stat
from collections.abc import Iterator
from pathlib import Path

import pytest

from pipeline.config.errors import ConfigurationError
from pipeline.readers.csv_output import OutputTarget

HEADER = ["org_id", "name"]
ROWS = [["o1", "Zoë Ångström"], ["o1", "Bob"]]


@pytest.fixture
def umask_022() -> Iterator[None]:
    previous = os.umask(0o022)
    yield
    os.umask(previous)


def _leftovers(folder: Path) -> list[str]:
    return [path.name for path in folder.iterdir() if path.name.startswith(".")]


def test_a_new_file_gets_the_usual_permissions(tmp_path: Path, umask_022: None) -> None:
    target = tmp_path / "users.csv"
    assert OutputTarget.check(target).write(HEADER, ROWS) == 2
    assert stat.S_IMODE(target.stat().st_mode) == 0o644
    assert target.read_bytes().decode() == "org_id,name\r\no1,Zoë Ångström\r\no1,Bob\r\n"
    assert _leftovers(tmp_path) == []


def test_a_replaced_file_keeps_its_mode(tmp_path: Path, umask_022: None) -> None:
    target = tmp_path / "users.csv"
    target.write_text("old")
    target.chmod(0o600)
    OutputTarget.check(target).write(HEADER, ROWS)
    assert stat.S_IMODE(target.stat().st_mode) == 0o600 and target.read_text().startswith("org_id")


@pytest.mark.parametrize("kind", ["folder", "fifo", "device", "link to device", "link to a file"])
def test_what_is_not_a_regular_file_is_refused_and_left_alone(tmp_path: Path, kind: str) -> None:
    if kind == "folder":
        target = tmp_path / "exports"
        target.mkdir()
    elif kind == "fifo":
        target = tmp_path / "pipe.csv"
        os.mkfifo(target)
    elif kind == "device":
        target = Path("/dev/null")
    elif kind == "link to device":
        target = tmp_path / "null.csv"
        target.symlink_to("/dev/null")
    else:
        (tmp_path / "users-2026-11-28.csv").write_text("old")
        target = tmp_path / "latest.csv"
        target.symlink_to("users-2026-11-28.csv")
    before = target.lstat()
    with pytest.raises(ConfigurationError) as refused:
        OutputTarget.check(target)
    assert refused.value.exit_code == 2 and "\n" not in str(refused.value)
    after = target.lstat()
    assert (after.st_mode, after.st_ino) == (before.st_mode, before.st_ino)
    assert _leftovers(tmp_path) == []
    if kind == "link to a file":
        assert (tmp_path / "users-2026-11-28.csv").read_text() == "old"


def test_a_failure_while_writing_leaves_the_old_file_and_no_temporary_file(tmp_path: Path) -> None:
    target = tmp_path / "users.csv"
    target.write_text("old")

    def rows() -> Iterator[list[str]]:
        yield ["o1", "Ann"]
        raise RuntimeError("the query broke")

    with pytest.raises(RuntimeError):
        OutputTarget.check(target).write(HEADER, rows())
    assert target.read_text() == "old" and _leftovers(tmp_path) == []


def test_dash_writes_to_standard_output(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    assert OutputTarget.check("-").write(HEADER, ROWS) == 2
    assert capsys.readouterr().out.replace("\r\n", "\n") == "org_id,name\no1,Zoë Ångström\no1,Bob\n"
    assert list(tmp_path.iterdir()) == []  # no file named "-"


def test_excel_gets_a_byte_order_mark(tmp_path: Path) -> None:
    target = tmp_path / "users.csv"
    OutputTarget.check(target).write(HEADER, ROWS, excel=True)
    raw = target.read_bytes()
    assert raw.startswith(b"\xef\xbb\xbforg_id") and "Zoë".encode() in raw
