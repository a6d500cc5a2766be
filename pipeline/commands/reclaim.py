"""``seatwatch reclaim plan | apply | undo``: act on the reclamation plan through the Admin API.

The work is in :mod:`pipeline.reclaim` (shared with the Dagster job); this module parses the arguments,
holds the data folder while the journal is written (the run guard every writing command uses) and prints.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from pipeline.config.errors import ConfigurationError

EXAMPLES = """examples:
  seatwatch reclaim plan --output plan.json --csv plan.csv      # what could be reclaimed, and what not (why)
  seatwatch reclaim apply --plan plan.json                      # dry run: what apply would do
  seatwatch reclaim apply --plan plan.json --yes --max 10       # do it (at most 10 actions)
  seatwatch reclaim undo --apply-run 3f2a9c1e                   # put back what that apply run removed
  seatwatch reclaim policy                                      # the daily policy, and what its next run does

Exit codes: 0 success, 1 a write failed or the run stopped, 2 bad usage, configuration or an unusable plan.
"""


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
            f"never more than {MAX_SHARE_OF_SEATS:.0%} of the seats the plan's data counted. Each user is "
            "read again just before acting; anything changed is skipped with the reason. A plan is refused "
            "after its as-of date + 1 day, or if its content changed."
        ),
    )
    apply.add_argument("--plan", required=True, type=Path, help="the plan file from `seatwatch reclaim plan`")
    apply.add_argument("--yes", action="store_true", help="really write (without it: a dry run)")
    apply.add_argument("--max", type=_positive, dest="max_actions", default=DEFAULT_MAX_ACTIONS)
    apply.add_argument("--verbose", action="store_true", help="tracebacks on errors")
    apply.set_defaults(handler=_apply)

    undo = actions.add_parser("undo", help="restore what one apply run removed or suspended")
    undo.add_argument("--apply-run", required=True, help="the apply run id (or a unique prefix of it)")
    undo.add_argument("--verbose", action="store_true", help="tracebacks on errors")
    undo.set_defaults(handler=_undo)

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
            f"  {row['state']:<9} {row['action']:<20} {row['account_id']:<28} {where:<24} "
            f"{row['product_key'] or ''}{reason}"
        )


def _summary(outcome: Any) -> str:
    counts = ", ".join(f"{count} {state}" for state, count in sorted(outcome.counts.items())) or "nothing"
    return f"{outcome.kind.capitalize()} run {outcome.run_id}: {counts}."


def _apply(args: argparse.Namespace) -> int:
    from pipeline.config.settings import load_settings
    from pipeline.reclaim.apply import apply_plan, check_settings_for_writes, dry_run

    settings = load_settings()
    if not args.yes:
        outcome = dry_run(args.plan, args.max_actions)
        print(f"Dry run: with --yes, this would act on {len(outcome.rows)} write(s) (cap {outcome.cap}):")
        _print_rows(outcome.rows)
        print("Each user is read again just before acting; anything changed since the plan is skipped.")
        return 0
    check_settings_for_writes(settings)
    outcome = _guarded(
        settings,
        lambda: apply_plan(settings, args.plan, max_actions=args.max_actions, trigger="cli", say=_say),
    )
    _print_rows(outcome.rows)
    print(_summary(outcome))
    undo = f"seatwatch reclaim undo --apply-run {outcome.run_id[:8]}"
    print(f"`seatwatch run` verifies the applied writes; `{undo}` restores them.")
    return 0


def _undo(args: argparse.Namespace) -> int:
    from pipeline.config.settings import load_settings
    from pipeline.reclaim.apply import ReclaimStopped, check_settings_for_writes, undo_apply

    settings = load_settings()
    check_settings_for_writes(settings)
    outcome = _guarded(settings, lambda: undo_apply(settings, args.apply_run, trigger="cli", say=_say))
    _print_rows(outcome.rows)
    print(_summary(outcome))
    if outcome.failures:
        raise ReclaimStopped(
            f"{len(outcome.failures)} write(s) could not be restored (first: {outcome.failures[0]}); the "
            "others were restored."
        )
    return 0


def _guarded(settings: Any, work: Any) -> Any:
    """Hold the data folder (waiting for a run that holds it) while the journal is written."""
    from pipeline.commands.guard import guarded_run
    from pipeline.commands.preflight import check_data_dir

    check_data_dir(settings.data_dir)
    with guarded_run(settings, say=_say):
        return work()


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
