"""From a failed Dagster step to the one line a person reads, and the exit code that goes with it.

``seatwatch run`` prints it when a run fails, and ``seatwatch status`` shows it as a past run's reason. A run
executes inside Dagster, which records a failed step as a ``SerializableErrorInfo`` (class name,
message, cause chain), not as the exception itself: the kind of error, and so the exit code, is recovered
from the innermost error's class name. Errors raised by DuckDB, dlt or dbt when another process holds the
warehouse are recognised by DuckDB's own text, wherever in the chain it sits
(:func:`pipeline.config.errors.lock_error_in`).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any

from pipeline.config.errors import SeatwatchError, lock_error_in

RUN_FAILED = 1


def _subclasses(cls: type) -> Iterator[type]:
    for sub in cls.__subclasses__():
        yield sub
        yield from _subclasses(sub)


def _exit_codes() -> dict[str, int]:
    # Imported for their subclasses: a step failure names its error class only by name.
    import pipeline.atlassian.errors  # noqa: F401

    return {cls.__name__: cls.exit_code for cls in _subclasses(SeatwatchError)} | {
        SeatwatchError.__name__: SeatwatchError.exit_code
    }


@dataclass(frozen=True)
class Failure:
    """What a person is told about a failed step: one line, and the exit code of its kind of error."""

    step: str
    message: str
    exit_code: int
    expected: bool  # a SeatwatchError (or a recognised lock): no traceback needed to act on it
    traceback: str = ""


def _innermost(error_info: Any) -> Any:
    while error_info.cause is not None:
        error_info = error_info.cause
    return error_info


def _first_line(error_info: Any) -> str:
    message = (error_info.message or "").strip()
    # Dagster writes "module.Class: message"; the class name means nothing to a person.
    prefix, sep, rest = message.partition(": ")
    if sep and prefix.split(".")[-1] == error_info.cls_name:
        message = rest
    lines = [line.strip() for line in message.splitlines() if line.strip()]
    return lines[0] if lines else f"step failed ({error_info.cls_name})"


def failure_from_error_info(step: str, error_info: Any) -> Failure:
    """A step's recorded error (Dagster's ``SerializableErrorInfo``) as a :class:`Failure`."""
    codes = _exit_codes()
    full_text = []
    current = error_info
    while current is not None:
        full_text.append(current.message or "")
        current = current.cause
    inner = _innermost(error_info)
    traceback = "".join(error_info.to_string()) if hasattr(error_info, "to_string") else ""
    if inner.cls_name in codes:
        return Failure(step, _first_line(inner), codes[inner.cls_name], True, traceback)
    locked = lock_error_in("\n".join(full_text))
    if locked is not None:
        return Failure(step, str(locked), locked.exit_code, True, traceback)
    return Failure(
        step,
        f"step {step} failed: {_first_line(inner)} (run with --verbose for the details; `seatwatch ui` "
        "shows the step's log).",
        RUN_FAILED,
        False,
        traceback,
    )


def step_failures(events: Iterable[Any]) -> list[Failure]:
    """Every failed step among Dagster events, in the order they failed."""
    failures = []
    for event in events:
        if not event.is_step_failure or event.step_failure_data.error is None:
            continue
        failures.append(failure_from_error_info(event.step_key, event.step_failure_data.error))
    return failures


def headline(failures: list[Failure]) -> Failure | None:
    """The failure to print: the first one a person can act on (the same cause often fails several steps
    at once, e.g. a wrong key fails the snapshot and the audit events alike)."""
    for failure in failures:
        if failure.expected:
            return failure
    return failures[0] if failures else None


class RunFailedError(SeatwatchError):
    """A run ended in failure; ``exit_code`` is that of the error behind it."""

    def __init__(self, message: str, exit_code: int = RUN_FAILED) -> None:
        super().__init__(message)
        self.exit_code = exit_code


def run_failed_error(run_id: str, failures: list[Failure]) -> RunFailedError:
    head = headline(failures)
    if head is None:
        return RunFailedError(
            f"Dagster run {run_id} failed before any step ran: `seatwatch ui` shows its log; run with "
            "--verbose to see it here."
        )
    return RunFailedError(head.message, head.exit_code)


def checks_failed_error(names: list[str]) -> RunFailedError:
    shown = ", ".join(names[:5]) + (f" and {len(names) - 5} more" if len(names) > 5 else "")
    return RunFailedError(
        f"The run finished but {len(names)} check(s) failed: {shown}; `seatwatch ui` (or --verbose) shows "
        "what each found."
    )
