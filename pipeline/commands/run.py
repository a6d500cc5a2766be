"""``seatwatch run``: the whole pipeline once, in this process, as the daily schedule would run it."""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import signal
import sys

from pipeline.commands import add_command
from pipeline.commands.preflight import check_api, check_data_dir
from pipeline.commands.progress import StderrProgress
from pipeline.config.errors import SeatwatchError
from pipeline.config.offline import apply_offline_defaults
from pipeline.config.settings import load_settings
from pipeline.extract.demo import api_settings
from pipeline.notify.alerts import send_alert
from pipeline.readers.run_tags import cli_run_tags
from pipeline.readers.step_failures import (
    RunFailedError,
    checks_failed_error,
    run_failed_error,
    step_failures,
)
from pipeline.runtime.refused import record_refused

EXAMPLES = """examples:
  seatwatch run                          # the embedded demo org (no credentials set)
  seatwatch run --json | jq .users_by_status
  ATLASSIAN_ORG_ID=... ATLASSIAN_API_KEY=... seatwatch run
  seatwatch ui                           # then look at the run, its checks and the lineage
"""


HELP = "extract, dbt build, checks and the published copy, in one Dagster run (exit 1 on failure)"
DESCRIPTION = (
    "Run the daily Dagster job in this process: the API snapshot, the audit events processed since "
    "the last load, dbt (staging, intermediate, marts), the checks, and data/seatwatch.duckdb."
)


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = add_command(subparsers, "run", HELP, DESCRIPTION, EXAMPLES)
    output = parser.add_mutually_exclusive_group()
    output.add_argument("--quiet", action="store_true", help="no progress and no summary; errors only")
    output.add_argument("--json", action="store_true", help="the summary as JSON on stdout, for scripts")
    output.add_argument("--verbose", action="store_true", help="also Dagster's event log and dbt's output")
    parser.set_defaults(handler=_handle)


def _say(line: str) -> None:
    print(line, file=sys.stderr, flush=True)


def _handle(args: argparse.Namespace) -> int:
    settings = load_settings()  # bad configuration ends here with exit code 2, before anything runs
    check_data_dir(settings.data_dir)
    if settings.publish_destination is not None:
        from pipeline.team_warehouse import check_configured

        check_configured(settings.publish_destination)  # exit 2 now, not after the whole run
    if not settings.is_demo:
        try:
            check_api(settings)  # a wrong key or org id: one line in a second, before Dagster starts
        except SeatwatchError as refused:
            # No Dagster run exists to record this: status and the admin channel must still learn of it.
            record_refused(settings.data_dir, str(refused))
            send_alert(settings, "a run was refused before it started", str(refused))
            raise
    apply_offline_defaults()
    # Imported here: loading the definitions takes seconds and `seatwatch --help` should not.
    from pipeline.commands.guard import guarded_run
    from pipeline.commands.runner import clock_offsets, failed_checks, run_daily_job
    from pipeline.extract.run import clock_warning
    from pipeline.readers.report.page import report_path_beside
    from pipeline.readers.summary import build_summary, format_summary
    from pipeline.runtime.recovery import launch_tags
    from pipeline.runtime.signals import stoppable
    from pipeline.runtime.stopping import StoppedRun

    # dagster-dbt echoes dbt's log to stdout and Dagster logs every event: with --verbose both go to
    # stderr; otherwise a person sees one progress line per step (stdout keeps the summary for scripts).
    quiet = args.quiet or args.json
    dbt_echo = sys.stderr if args.verbose else io.StringIO()
    log_level = "INFO" if args.verbose else "CRITICAL"  # the failure is reported below either way
    progress = StderrProgress(enabled=not quiet and not args.verbose)
    stopped = StoppedRun(settings.data_dir)
    result = None
    with stoppable(stopped_line=stopped.line, on_hard_stop=stopped.cancel) as stop:
        try:
            with guarded_run(settings, say=_say) as instance, stopped.watching(instance):
                try:
                    with (
                        api_settings(settings, quiet=quiet) as resolved,
                        contextlib.redirect_stdout(dbt_echo),
                    ):
                        result = run_daily_job(
                            instance,
                            resolved,
                            progress=progress,
                            log_level=log_level,
                            tags={**cli_run_tags(settings.data_dir), **launch_tags(settings.data_dir)},
                        )
                except KeyboardInterrupt:
                    stop.signum = stop.signum or signal.SIGINT
                if stop.requested:
                    stopped.settle(instance)  # canceled, slot freed, whichever way the run stopped
        except KeyboardInterrupt:  # while waiting for the data folder or recovering
            stop.signum = stop.signum or signal.SIGINT
        finally:
            progress.close()
    if stop.requested:
        _say(stopped.line(stop))
        return stop.exit_code
    assert result is not None
    warning = None if settings.is_demo else clock_warning(clock_offsets(result))
    if warning and not args.quiet:
        print(warning, file=sys.stderr)
    if not result.success:
        failures = step_failures(result.all_events)
        if args.verbose:
            for failure in failures:
                print(f"step {failure.step} failed:\n{failure.traceback}", file=sys.stderr)
        error = run_failed_error(result.run_id, failures)
        send_alert(settings, f"run {result.run_id[:8]} failed", str(error))
        raise error
    checks = failed_checks(result)
    summary = build_summary(settings.published_path)
    if args.json:
        print(
            json.dumps({"run_id": result.run_id, "failed_checks": len(checks), **summary.to_dict()}, indent=2)
        )
    elif not args.quiet:
        print(format_summary(summary))
        print(f"HTML report: {report_path_beside(settings.published_path)} (opens offline in any browser)")
        print(f"\nDagster run {result.run_id}; `seatwatch ui` shows it with its checks and lineage.")
    if checks:
        if args.verbose:
            for check in checks:
                details = {key: value.value for key, value in check.metadata.items()}
                print(f"  {check.asset_check_key.to_user_string()}: {details}", file=sys.stderr)
        from pipeline.readers.trust import TRUST_CHECK, trust_line, untrusted_products

        names = [check.asset_check_key.name for check in checks]
        if names == [TRUST_CHECK]:
            # The trust check says why in one line of its own (its metadata would only count rows).
            raise RunFailedError(
                trust_line(untrusted_products(settings.warehouse_path)).removeprefix("seatwatch: ")
            )
        raise checks_failed_error(names)
    return 0
