"""Where an export goes, checked before anything is written, and written so that nothing is half-done.

Rules (the README's export section says the same to users):

* ``-`` writes to standard output.
* A new path, or an existing regular file: the CSV is written to a temporary file in the same folder and
  renamed over the target, so the target is either the old file or the complete new one, never a part.
* A symbolic link is refused and left as it is: replacing "the file behind a link" is how an export run as
  root overwrites something it was never meant to touch (a link planted in a shared folder), so Seatwatch
  writes only to the path a person named. Give the file itself.
* Anything that is not a regular file (a folder, a device such as ``/dev/full``, a FIFO, a socket) is
  refused before anything is written: renaming over it would destroy it and write nowhere useful.
* Permissions: a new file gets the usual ``0666`` minus the umask (``0644`` by default); a replaced file
  keeps its own mode.
* ``excel``: UTF-8 with a byte-order mark, the only way Excel opens a CSV with accented names correctly.

Every refusal and every failure to write is a :class:`ConfigurationError` (exit 2, one line).
"""

from __future__ import annotations

import csv
import os
import stat
import sys
import tempfile
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TextIO

from pipeline.config.errors import ConfigurationError

STDOUT = "-"
_KINDS = [
    (stat.S_ISDIR, "a folder"),
    (stat.S_ISCHR, "a device"),
    (stat.S_ISBLK, "a device"),
    (stat.S_ISFIFO, "a FIFO (named pipe)"),
    (stat.S_ISSOCK, "a socket"),
]


def _refuse(shown: str, what: str) -> ConfigurationError:
    return ConfigurationError(
        f"--output {shown} is {what}: give the path of a regular file such as users.csv, or - for standard "
        "output."
    )


def _cannot_write(shown: str, folder: Path, error: OSError) -> ConfigurationError:
    return ConfigurationError(
        f"--output {shown}: cannot write in {folder} ({error.strerror or error}); choose another folder."
    )


def _check_writable(shown: str, folder: Path) -> None:
    # A real file, not os.access: root passes every permission check but not a read-only file system.
    try:
        with tempfile.TemporaryFile(dir=folder):
            pass
    except OSError as error:
        raise _cannot_write(shown, folder, error) from None


def _current_umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


@dataclass(frozen=True)
class OutputTarget:
    shown: str  # as the user typed it, for messages
    path: Path | None  # the file to replace or create (links resolved); None for standard output
    mode: int  # permission bits of the written file

    @classmethod
    def check(cls, raw: str | os.PathLike[str]) -> OutputTarget:
        """Refuse a target that cannot be written safely, before any work is done."""
        shown = os.fspath(raw)
        if shown == STDOUT:
            return cls(shown, None, 0)
        if not shown:
            raise ConfigurationError("--output is empty: give a file name such as users.csv, or -.")
        path = Path(shown).expanduser()
        if path.is_symlink():
            raise _refuse(shown, f"a symbolic link (to {path.readlink()})")
        try:
            info = path.stat()
        except FileNotFoundError:
            info = None
        except OSError as error:
            raise ConfigurationError(f"--output {shown}: {error.strerror}; choose another path.") from None
        if info is not None:
            for test, what in _KINDS:
                if test(info.st_mode):
                    raise _refuse(shown, what)
            _check_writable(shown, path.parent)
            return cls(shown, path.absolute(), stat.S_IMODE(info.st_mode))
        if not path.parent.is_dir():
            raise ConfigurationError(
                f"--output {shown}: the folder {path.parent} does not exist; create it or choose another "
                "path."
            )
        _check_writable(shown, path.parent)
        return cls(shown, path.absolute(), 0o666 & ~_current_umask())

    def write(self, header: Sequence[str], rows: Iterable[Sequence[Any]], *, excel: bool = False) -> int:
        """Write the CSV; returns the number of data rows."""
        if self.path is None:
            return _write_rows(sys.stdout, header, rows, excel)
        return self._replace(lambda stream: _write_rows(stream, header, rows, excel))

    def write_text(self, text: str) -> None:
        """Write ``text`` (a JSON plan) the same way: a temporary file renamed over the target."""
        if self.path is None:
            sys.stdout.write(text)
            return
        self._replace(lambda stream: stream.write(text))

    def _replace(self, fill: Callable[[TextIO], int]) -> int:
        assert self.path is not None
        folder = self.path.parent
        try:
            handle, tmp_name = tempfile.mkstemp(prefix=f".{self.path.name}.", suffix=".tmp", dir=folder)
        except OSError as error:
            raise _cannot_write(self.shown, folder, error) from None
        tmp = Path(tmp_name)
        try:
            os.fchmod(handle, self.mode)
            with os.fdopen(handle, "w", newline="", encoding="utf-8") as stream:
                count = fill(stream)
                stream.flush()
                os.fsync(stream.fileno())
            tmp.replace(self.path)
        except OSError as error:
            tmp.unlink(missing_ok=True)
            raise ConfigurationError(
                f"--output {self.shown}: writing failed ({error.strerror or error}); the file was left as it "
                "was."
            ) from None
        except BaseException:
            tmp.unlink(missing_ok=True)
            raise
        return count


def _write_rows(stream: TextIO, header: Sequence[str], rows: Iterable[Sequence[Any]], excel: bool) -> int:
    if excel:
        stream.write("\ufeff")
    writer = csv.writer(stream)
    writer.writerow(header)
    count = 0
    for row in rows:
        writer.writerow(row)
        count += 1
    return count
