"""Every place Seatwatch replaces or overrides a private part of Dagster or dagster-dbt, in one registry.

Each :class:`Patch` names the package, the versions it was checked on and the test that shows the upstream
behaviour it works around (a strict xfail in tests/runtime/test_patches.py: once upstream changes, that test
passes, fails the suite as XPASS, and the patch can go or must be re-checked). Applying a patch, or defining
an override, first checks the installed version against ``checked`` and that the patched attribute still
exists; either failing is one line (:class:`UncheckedPatchError`), never a silent no-op.

| patch | works around (every dbt step / every wait) | applied by |
|---|---|---|
| :data:`CLAIM_CHECK` | a step waiting for a pool spins at 100% of a core | :func:`apply_dagster_patches` |
| :data:`DBT_SUBPROCESS` | dbt outlives a killed run, inherits the API key | :func:`apply_dagster_patches` |
| :data:`COMPUTE_LOG_SUBPROCESS` | log tails see every credential | :func:`apply_dagster_patches` |
| :data:`INTERRUPT_SIGNAL` | Dagster takes SIGTERM during a run | :func:`keep_sigterm_during_runs` |
| :data:`DBT_CLI_VERSION` | ``dbt --version`` (asks pypi.org) | :func:`overrides` |
| :data:`DBT_CORE_ADAPTER` | a dbt adapter in this process (seconds of CPU) | :func:`overrides` |

The first four replace a module or class attribute; the last two are methods of
``pipeline.defs.resources.SeatwatchDbtCliResource`` (Dagster loads the resource from there). Third-party
modules are imported when a patch is applied, not here: the simulator uses this package without Dagster.

To move to a new version: run tests/runtime/test_patches.py against it, read the upstream code each patch
names, then add the version to ``checked``.
"""

from __future__ import annotations

import importlib
import importlib.metadata
import inspect
import signal
import subprocess
import time
import types
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from pipeline.config.errors import SeatwatchError
from pipeline.runtime.children import guarded_popen


class UncheckedPatchError(SeatwatchError):
    """A patched package is at a version the patch was not checked on, or no longer has what it patches."""


@dataclass(frozen=True)
class Patch:
    package: str  # the distribution, as `uv pip show` names it
    checked: tuple[str, ...]  # the versions whose code the patch was read against and tested on
    module: str
    path: str  # within ``module``: "Class.attribute" or "attribute"
    test: str  # the strict xfail test in tests/runtime/test_patches.py that shows the upstream behaviour

    @property
    def name(self) -> str:
        return f"{self.module}.{self.path}"

    @property
    def attribute(self) -> str:
        return self.path.rsplit(".", 1)[-1]

    def owner(self) -> Any:
        """The module or class that holds the patched attribute."""
        owner: Any = importlib.import_module(self.module)
        for part in self.path.split(".")[:-1]:
            owner = getattr(owner, part)
        return owner

    def check(self) -> Any:
        """The attribute's owner, once the version installed is a checked one and the attribute exists."""
        installed = importlib.metadata.version(self.package)
        if installed not in self.checked:
            raise UncheckedPatchError(
                f"Seatwatch patches {self.name}, checked on {self.package} {', '.join(self.checked)} only, "
                f"but {self.package} {installed} is installed: install the locked versions (uv sync), or "
                "re-check the patch (pipeline/runtime/patches.py) and add the version."
            )
        owner = self.owner()
        if not hasattr(owner, self.attribute):
            raise UncheckedPatchError(
                f"Seatwatch patches {self.name}, which {self.package} {installed} no longer has: "
                "re-check the patch (pipeline/runtime/patches.py)."
            )
        return owner


CLAIM_CHECK = Patch(
    package="dagster",
    checked=("1.13.27",),
    module="dagster._core.execution.plan.instance_concurrency_context",
    path="InstanceConcurrencyContext.interval_to_next_pending_claim_check",
    test="test_upstream_waits_until_the_next_claim_check",
)
INTERRUPT_SIGNAL = Patch(
    package="dagster",
    checked=("1.13.27",),
    module="dagster._utils.interrupts",
    path="_replace_interrupt_signal",
    test="test_upstream_leaves_sigterm_alone_while_it_captures_interrupts",
)
DBT_SUBPROCESS = Patch(
    package="dagster-dbt",
    checked=("0.29.27",),
    module="dagster_dbt.core.dbt_cli_invocation",
    path="subprocess",
    test="test_upstream_keeps_the_api_key_from_dbt",
)
COMPUTE_LOG_SUBPROCESS = Patch(
    package="dagster",
    checked=("1.13.27",),
    module="dagster._core.execution.compute_logs",
    path="subprocess",
    test="test_upstream_gives_the_compute_log_tail_the_whole_environment",
)
DBT_CLI_VERSION = Patch(
    package="dagster-dbt",
    checked=("0.29.27",),
    module="dagster_dbt",
    path="DbtCliResource._cli_version",
    test="test_upstream_knows_the_dbt_version_without_running_dbt",
)
DBT_CORE_ADAPTER = Patch(
    package="dagster-dbt",
    checked=("0.29.27",),
    module="dagster_dbt",
    path="DbtCliResource._initialize_dbt_core_adapter",
    test="test_upstream_invokes_dbt_without_an_adapter_in_this_process",
)
PATCHES = (
    CLAIM_CHECK,
    INTERRUPT_SIGNAL,
    DBT_SUBPROCESS,
    COMPUTE_LOG_SUBPROCESS,
    DBT_CLI_VERSION,
    DBT_CORE_ADAPTER,
)

# What a replacement replaced, by patch: the upstream code the xfail tests run, and "applied already".
_upstream: dict[Patch, Any] = {}


def _replace(patch: Patch, replacement: Any) -> None:
    if patch in _upstream:
        return
    owner = patch.check()
    _upstream[patch] = inspect.getattr_static(owner, patch.attribute)
    setattr(owner, patch.attribute, replacement)


def upstream(patch: Patch) -> Any:
    """The attribute as the package defines it, whether or not the patch is applied."""
    return _upstream.get(patch, inspect.getattr_static(patch.owner(), patch.attribute))


# CLAIM_CHECK: ``InstanceConcurrencyContext.interval_to_next_pending_claim_check`` returns
# ``min([0, *intervals])``, never positive, so ``ActiveExecution.sleep_til_ready`` never sleeps and the
# in-process executor asks the storage for a slot in a tight loop while another run holds the
# ``duckdb_writer`` pool, burning a core for as long as it waits. Intended: the time until the soonest
# scheduled re-check, never negative.
def _interval_to_next_pending_claim_check(self: Any) -> float:
    if not self._pending_claims or not self._pending_timeouts:
        return 0.0
    now = time.time()
    return max(0.0, min(ready_at - now for ready_at in self._pending_timeouts.values()))


# DBT_SUBPROCESS: dagster-dbt starts dbt with ``subprocess.Popen`` (DbtCliInvocation.run) and the whole
# parent environment, and offers no hook; its module's ``subprocess`` becomes one whose ``Popen`` is
# pipeline.runtime.children.guarded_popen (parent-death signal, allow-listed environment).
# COMPUTE_LOG_SUBPROCESS: the same for Dagster's compute-log capture, which starts a ``tail`` and a watcher
# process for every step (execute_posix_tail) with the whole environment: the API key and the team
# warehouse's credentials (DESTINATION__*, DAGSTER_PG_URL) included.
class _GuardedSubprocess(types.ModuleType):
    """The ``subprocess`` module with :func:`~pipeline.runtime.children.guarded_popen` as ``Popen``."""

    Popen = staticmethod(guarded_popen)

    def __getattr__(self, name: str) -> Any:
        return getattr(subprocess, name)


def apply_dagster_patches() -> None:
    """The patches of every process that loads the Dagster definitions (pipeline/definitions.py).
    Idempotent."""
    _replace(CLAIM_CHECK, _interval_to_next_pending_claim_check)
    _replace(DBT_SUBPROCESS, _GuardedSubprocess("subprocess"))
    _replace(COMPUTE_LOG_SUBPROCESS, _GuardedSubprocess("subprocess"))


# INTERRUPT_SIGNAL: during a run Dagster replaces the SIGINT handler and points SIGTERM at it, through
# ``_replace_interrupt_signal`` (which calls ``setup_interrupt_handlers``). This one sets SIGINT only: SIGTERM
# stays with seatwatch's handler, which forwards it to whatever handles SIGINT (pipeline.runtime.signals).
# Only for processes that install that handler: a run launched from the UI needs Dagster's SIGTERM.
def _replace_interrupt_signal(new_handler: Any) -> None:
    signal.signal(signal.SIGINT, new_handler)


def keep_sigterm_during_runs() -> None:
    """SIGTERM stays with the handler installed before a Dagster run. Idempotent."""
    _replace(INTERRUPT_SIGNAL, _replace_interrupt_signal)


def overrides(*patches: Patch) -> Callable[[type], type]:
    """Class decorator for a subclass that overrides private methods of a third-party class (its patches):
    checks them as applying them would, and that the class really is a subclass defining each one."""

    def check(cls: type) -> type:
        for patch in patches:
            owner = patch.check()
            if not (issubclass(cls, owner) and patch.attribute in vars(cls)):
                raise TypeError(f"{cls.__qualname__} does not override {patch.name}")
        return cls

    return check
