"""``seatwatch reclaim plan | apply | undo``: act on the reclamation plan through the Admin API.

The work is in :mod:`pipeline.reclaim` (shared with the Dagster job); this module parses the arguments,
holds the data folder while the journal is written (the run guard every writing command uses) and prints.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

from pipeline.config.errors import ConfigurationError

EXAMPLES = """examples:
  seatwatch reclaim plan --output plan.json --csv plan.csv      # what could be reclaimed, and what not (why)
  seatwatch reclaim apply --plan plan.json                      # dry run: what apply would do
  seatwatch reclaim apply --plan plan.json --yes --max 10       # do it (at most 10 actions)
  seatwatch reclaim undo --apply-run 3f2a9c1e                   # put back what that apply run removed
  seatwatch reclaim apply --abandon 3f2a9c1e                    # close an interrupted run for good
  seatwatch reclaim policy                                      # the daily policy, and what its next run does

Exit codes: 0 success, 1 a write failed or the run stopped, 2 bad usage, configuration or an unusable plan,
130/143 stopped by Ctrl-C/SIGTERM (between two writes; the run is recorded stopped).
"""
# A stop request waits for the write in flight this long before the process exits anyway (the run is then
# left interrupted: finishing it reads what that write did).
STOP_GRACE_SECONDS = 20.0


def _positive(raw: str) -> int:
    try:
        value = int(raw)
    except ValueError:
        value = 0
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be a whole number of 1 or more (got {raw!r})")
    return value


def register(subparsers: argparse._SubParsersAction) -> None:
    from pipeline.reclaim.plan import DEFAULT_MAX_ACTIONS, MAX_SHARE_OF_SEATS, REASONS

    parser = subparsers.add_parser(
        "reclaim",
        help="plan, apply (with guards), verify and undo seat reclamation through the Admin API",
        description=(
            "Turn the cleanup-ready seats of the published copy into Admin API writes: remove the user from "
            "every single-product group that grants the seat, or suspend an invitee who never accepted. "
            "Admins, exempt and app accounts, multi-product groups, direct grants, untrusted products and "
            "seats that need review are never touched (the plan lists them with the reason)."
        ),
        epilog=EXAMPLES,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    actions = parser.add_subparsers(dest="reclaim_command", metavar="ACTION", required=True)

    plan = actions.add_parser(
        "plan", help="write the plan (JSON, and CSV with --csv) from the published copy"
    )
    plan.add_argument("--output", "-o", required=True, help="the plan file to write (JSON)")
    plan.add_argument("--csv", help="also write the plan as CSV, one row per seat")
    plan.add_argument("--org", help="only this org")
    plan.add_argument("--product", help="only seats of this product (e.g. jira, confluence)")
    plan.add_argument("--reason", choices=REASONS, help="only seats with this reclaim reason")
    plan.add_argument("--max", type=_positive, dest="max_actions", help="at most N actions in the plan")
    plan.set_defaults(handler=_plan)

    apply = actions.add_parser(
        "apply",
        help="apply a plan: a dry run without --yes",
        description=(
            f"Apply the plan's actions in order, at most --max (default {DEFAULT_MAX_ACTIONS}) per run and "
            f"never more than {MAX_SHARE_OF_SEATS:.0%} of the seats the published copy holds now. Each "
            "action is derived again from the current data and checked against a fresh read of the user and "
            "the groups just before acting; anything the current rules would not plan is skipped with the "
            "reason. A plan is refused after its as-of date + 1 day (an interrupted run of it is still "
            "finished), or if its content changed."
        ),
    )
    apply.add_argument("--plan", type=Path, help="the plan file from `seatwatch reclaim plan`")
    apply.add_argument(
        "--abandon",
        metavar="RUN",
        help="close an interrupted or stopped apply or undo run for good (its writes left unknown are read "
        "first; undo still restores what it did)",
    )
    apply.add_argument("--yes", action="store_true", help="really write (without it: a dry run)")
    apply.add_argument("--max", type=_positive, dest="max_actions", default=DEFAULT_MAX_ACTIONS)
    apply.add_argument("--verbose", action="store_true", help="tracebacks on errors")
    apply.set_defaults(handler=_ending_stops(_apply))

    undo = actions.add_parser("undo", help="restore what one apply run removed or suspended")
    undo.add_argument("--apply-run", required=True, help="the apply run id (or a unique prefix of it)")
    undo.add_argument("--verbose", action="store_true", help="tracebacks on errors")
    undo.set_defaults(handler=_ending_stops(_undo))

    policy = actions.add_parser(
        "policy",
        help="the reclaim policy the daily run carries out, and what its next run would do (read-only)",
        description=(
            "Print the effective policy (SEATWATCH_RECLAIM_POLICY, SEATWATCH_NOTICE_DAYS, the channels) and "
            "what the next daily run would do, one line per person: who gets a notice, whose removal is due, "
            "what a cap holds back, which notices are cancelled. Reads the published copy and the journal; "
            "writes nothing and sends nothing."
        ),
    )
    policy.set_defaults(handler=_policy)


def _say(line: str) -> None:
    print(line, file=sys.stderr, flush=True)


def _plan(args: argparse.Namespace) -> int:
    from pipeline.config.settings import load_settings
    from pipeline.readers.csv_output import OutputTarget
    from pipeline.reclaim.plan import CSV_HEADER, Filters, build_plan, csv_rows

    settings = load_settings()
    target = OutputTarget.check(args.output)
    if target.path is None:
        raise ConfigurationError("--output - is not accepted for a plan: give a file name such as plan.json.")
    csv_target = OutputTarget.check(args.csv) if args.csv else None
    plan = build_plan(settings.published_path, Filters(args.org, args.product, args.reason, args.max_actions))
    target.write_text(json.dumps(plan, indent=2, sort_keys=True) + "\n")
    if csv_target is not None:
        csv_target.write(CSV_HEADER, csv_rows(plan))
    counts = plan["counts"]
    print(
        f"Plan as of {plan['as_of_date']} (apply by {plan['expires_after']}): {counts['actions']} action(s), "
        f"{counts['writes']} write(s), freeing {counts['seats_freed']} seat(s) worth "
        f"{plan['monthly_cost_freed']:,.2f} a month (list prices, product_policies.csv)."
    )
    print(f"No action for {counts['no_action']} candidate seat(s):")
    for reason, count in sorted(counts["no_action_by_reason"].items(), key=lambda item: -item[1]):
        print(f"  {count:>6,}  {reason}")
    print(f"Written to {target.path} (sha256 {plan['hash'][:12]}…){f' and {args.csv}' if args.csv else ''}.")
    return 0


def _print_rows(rows: list[dict[str, Any]]) -> None:
    for row in rows:
        where = row.get("group_name") or ""
        reason = f"  ({row['reason']})" if row.get("reason") else ""
        print(
            f"  {row['state']:<10} {row['action']:<20} {row['account_id']:<28} {where:<24} "
            f"{row['product_key'] or ''}{reason}"
        )


def _summary(outcome: Any) -> str:
    counts = ", ".join(f"{count} {state}" for state, count in sorted(outcome.counts.items())) or "nothing"
    return f"{outcome.kind.capitalize()} run {outcome.run_id}: {counts}."


def _apply(args: argparse.Namespace) -> int:
    from pipeline.config.settings import load_settings
    from pipeline.reclaim.apply import abandon_run, apply_plan, dry_run
    from pipeline.reclaim.calls import check_settings_for_writes
    from pipeline.reclaim.plan import load_plan

    if (args.plan is None) == (args.abandon is None):
        raise ConfigurationError(
            "Give either --plan FILE (to apply a plan) or --abandon RUN (to close a run)."
        )
    settings = load_settings()
    if args.abandon is not None:
        check_settings_for_writes(settings)
        outcome = _guarded(
            settings, "reclaim apply --abandon", lambda stop: abandon_run(settings, args.abandon, say=_say)
        )
        _print_rows(outcome.rows)
        print(f"{_summary(outcome)} It is abandoned: the writes it never made are skipped.")
        if outcome.kind == "apply" and outcome.counts.get("applied"):
            print(f"`seatwatch reclaim undo --apply-run {outcome.run_id[:8]}` restores what it did.")
        return 0
    load_plan(args.plan)  # an unusable plan (not a file, a FIFO, changed): one line before any lock
    if not args.yes:
        outcome = dry_run(settings, args.plan, args.max_actions)
        acting = sum(1 for row in outcome.rows if row["state"] == "would do")
        print(f"Dry run: with --yes, this would act on {acting} write(s) (cap {outcome.cap}).")
        for note in outcome.notes:
            print(note)
        _print_rows(outcome.rows)
        print("Each user and group is read again just before acting; anything changed since is skipped.")
        return 0
    check_settings_for_writes(settings)
    outcome = _guarded(
        settings,
        "reclaim apply",
        lambda stop: apply_plan(
            settings,
            args.plan,
            max_actions=args.max_actions,
            trigger="cli",
            say=_say,
            should_stop=lambda: stop.requested,
        ),
    )
    _print_rows(outcome.rows)
    print(_summary(outcome))
    undo = f"seatwatch reclaim undo --apply-run {outcome.run_id[:8]}"
    print(f"`seatwatch run` verifies the applied writes; `{undo}` restores them.")
    _raise_failures(outcome, "could not be made")
    return 0


def _undo(args: argparse.Namespace) -> int:
    from pipeline.config.settings import load_settings
    from pipeline.reclaim.calls import check_settings_for_writes
    from pipeline.reclaim.undo import undo_apply

    settings = load_settings()
    check_settings_for_writes(settings)
    outcome = _guarded(
        settings,
        "reclaim undo",
        lambda stop: undo_apply(
            settings, args.apply_run, trigger="cli", say=_say, should_stop=lambda: stop.requested
        ),
    )
    _print_rows(outcome.rows)
    print(_summary(outcome))
    _raise_failures(outcome, "could not be restored")
    return 0


def _raise_failures(outcome: Any, what: str) -> None:
    from pipeline.reclaim.calls import ReclaimStopped

    if outcome.failures:
        done = outcome.counts.get("applied", 0)
        raise ReclaimStopped(
            f"{len(outcome.failures)} write(s) {what} (first: {outcome.failures[0]}); {done} other(s) done."
        )


def _ending_stops(handler: Callable[[argparse.Namespace], int]) -> Callable[[argparse.Namespace], int]:
    """``handler``, with a stop request ending it in one line on stderr and exit 130 / 143."""

    def run(args: argparse.Namespace) -> int:
        try:
            return handler(args)
        except _Stopped as stopped:
            print(stopped.line, file=sys.stderr, flush=True)
            return stopped.code

    return run


class _Stopped(Exception):
    """A stop request ended the command: ``line`` is what it prints, ``code`` its exit code."""

    def __init__(self, line: str, code: int) -> None:
        super().__init__(line)
        self.line, self.code = line, code


def _guarded(settings: Any, command: str, work: Callable[[Any], Any]) -> Any:
    """Hold the data folder (waiting for a run that holds it) while the journal is written.

    Ctrl-C or SIGTERM while waiting ends the command at once; once the work has begun, a stop is honoured
    between two writes (the work checks ``stop.requested``) and the run is recorded stopped. Either way the
    command ends with one line and exit 130 / 143.
    """
    from pipeline.commands.guard import guarded_run
    from pipeline.commands.preflight import check_data_dir
    from pipeline.reclaim.calls import ReclaimInterrupted
    from pipeline.runtime.signals import stoppable

    check_data_dir(settings.data_dir)

    def hard_stop_line(stop: Any) -> str:
        return (
            f"seatwatch: {command} stopped by {stop.name} during a write: the run is left interrupted; the "
            "same command finishes it (it reads what that write did)."
        )

    with stoppable(
        stopped_line=hard_stop_line, grace_seconds=STOP_GRACE_SECONDS, within_dagster=False
    ) as stop:
        try:
            with guarded_run(settings, say=_say, command=command):
                stop.deferred = True
                return work(stop)
        except ReclaimInterrupted as error:
            line = (
                f"seatwatch: {error.kind} run {error.run_id[:8]} stopped by {stop.name} between two writes; "
                f"{error.next_step}."
            )
            raise _Stopped(line, stop.exit_code) from None
        except KeyboardInterrupt:
            raise _Stopped(
                f"seatwatch: {command} stopped by {stop.name}; nothing was written.", stop.exit_code
            ) from None


def _policy(args: argparse.Namespace) -> int:
    from pipeline.config.policy import OFF
    from pipeline.config.settings import load_settings
    from pipeline.notify.channels import channels_for
    from pipeline.reclaim.policy import MAX_REMOVALS_PER_DAY, preview

    settings = load_settings()
    policy = settings.policy
    notices_to, admin_to = channels_for(policy, settings.data_dir, demo=settings.is_demo).describe()
    print(
        f"Policy: {policy.mode} (SEATWATCH_RECLAIM_POLICY); notice period {policy.notice_days} days "
        f"(SEATWATCH_NOTICE_DAYS); removals at most {MAX_REMOVALS_PER_DAY} a run and a day."
    )
    print(f"Notices go to {notices_to}; the digest and alerts to {admin_to}.")
    now, lines = preview(settings)
    when = f"As of {now:%Y-%m-%d %H:%M} UTC ({'the API' if settings.orgs else 'the last extract'}'s clock)"
    if policy.mode == OFF:
        print(f"{when}: off, so the next run sends and removes nothing. With notify or enforce it would:")
    else:
        print(f"{when}, the next run would:")
    for line in lines:
        print(f"  {line}")
    print(f"{len(lines)} line(s); nothing was sent or written.")
    return 0
