"""From a step's recorded error to the one line and exit code a person gets."""

from __future__ import annotations

import sys

import duckdb
import pytest
from dagster._utils.error import serializable_error_info_from_exc_info

from pipeline.atlassian.errors import AuthenticationError, RetriesExhaustedError
from pipeline.config.errors import lock_error_in, unexpected_error_line, user_error
from pipeline.readers.step_failures import Failure, failure_from_error_info, headline, run_failed_error

DUCKDB_LOCK = (
    'IO Error: Could not set lock on file "/d/warehouse.duckdb": Conflicting lock is held in '
    "/usr/bin/python3.11 (PID 4036) by user root. See also https://duckdb.org/docs/current/connect/concurrency"
)


def _recorded(error: BaseException, wrapper: str = "Error occurred while executing op") -> object:
    """What Dagster stores for a step that raised ``error``: a wrapper whose cause is the error."""
    try:
        try:
            raise error
        except BaseException as inner:
            raise RuntimeError(wrapper) from inner
    except RuntimeError:
        return serializable_error_info_from_exc_info(sys.exc_info())


def test_our_error_inside_a_step_keeps_its_message_and_exit_code() -> None:
    failure = failure_from_error_info(
        "atlassian_snapshot", _recorded(AuthenticationError("The key is wrong."))
    )
    assert failure == Failure("atlassian_snapshot", "The key is wrong.", 2, True, failure.traceback)
    assert "AuthenticationError" in failure.traceback  # for --verbose only
    retries = failure_from_error_info("x", _recorded(RetriesExhaustedError("The API is down; run later.")))
    assert (retries.message, retries.exit_code) == ("The API is down; run later.", 1)


def test_a_lock_anywhere_in_the_chain_names_the_file_and_the_holder() -> None:
    failure = failure_from_error_info("dbt_models", _recorded(duckdb.IOException(DUCKDB_LOCK)))
    assert failure.message.startswith("/d/warehouse.duckdb is locked by process 4036 (python3.11): close")
    assert failure.exit_code == 1 and failure.expected
    assert "locked by another process" in str(lock_error_in('Could not set lock on file "/d/w.duckdb"'))


def test_dlt_wrapping_a_lock_error_is_unwrapped() -> None:
    class DestinationConnectionError(Exception):  # dlt's wording blames credentials and the network
        pass

    try:
        try:
            raise duckdb.IOException(DUCKDB_LOCK)
        except duckdb.IOException as inner:
            raise DestinationConnectionError("credentials... internet connection may be down") from inner
    except DestinationConnectionError as error:
        found = user_error(error)
    assert found is not None and "process 4036" in str(found)


def test_an_unknown_error_still_gives_one_line_without_a_class_name() -> None:
    failure = failure_from_error_info("publish", _recorded(ZeroDivisionError("division by zero")))
    assert failure.exit_code == 1 and not failure.expected
    assert "ZeroDivisionError" not in failure.message and "division by zero" in failure.message
    line = unexpected_error_line(PermissionError(13, "Permission denied", "/x"))
    assert line.startswith("unexpected failure (Permission denied: /x)") and "\n" not in line


def test_the_headline_is_the_first_failure_a_person_can_act_on() -> None:
    bug = Failure("a", "step a failed: boom", 1, False)
    key = Failure("b", "The key is wrong.", 2, True)
    assert headline([bug, key]) is key
    error = run_failed_error("run-1", [bug, key, key])
    assert (str(error), error.exit_code) == ("The key is wrong.", 2)
    assert "run-1" in str(run_failed_error("run-1", []))


@pytest.mark.parametrize("text", ["", "IO Error: disk full"])
def test_other_io_errors_are_not_locks(text: str) -> None:
    assert lock_error_in(text) is None
