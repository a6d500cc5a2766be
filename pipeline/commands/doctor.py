"""``seatwatch doctor``: the first command a new admin runs against a real org (read-only, under a minute)."""

from __future__ import annotations

import argparse
import json

from pipeline.commands import add_command
from pipeline.config.settings import load_settings
from pipeline.extract.demo import api_settings

EXAMPLES = """examples:
  ATLASSIAN_ORG_ID=... ATLASSIAN_API_KEY=... seatwatch doctor
  seatwatch doctor --json | jq '.orgs[].checks[] | select(.status != "ok")'
  seatwatch doctor                       # the embedded demo org (no credentials set)
  SEATWATCH_PUBLISH_DESTINATION=postgres DESTINATION__POSTGRES__CREDENTIALS=... seatwatch doctor

Exit codes: 0 ready, 1 problems found, 2 configuration.
"""


HELP = "check that the org and the API key are ready for Seatwatch (read-only, under a minute)"
DESCRIPTION = (
    "Read-only checks against the Admin API: the key, the org, directories and users, bulk "
    "productAccess and its agreement with per-user last-active dates, the audit log (scoped keys), "
    "rate-limit headers and their precision, and how the product keys seen map to products; and, when "
    "SEATWATCH_PUBLISH_DESTINATION is set, whether that warehouse is reachable and the dataset can be "
    "created there."
)


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = add_command(subparsers, "doctor", HELP, DESCRIPTION, EXAMPLES)
    parser.add_argument("--json", action="store_true", help="the checks as JSON on stdout")
    parser.set_defaults(handler=_handle)


def _handle(args: argparse.Namespace) -> int:
    settings = load_settings()  # a bad configuration ends here with exit code 2, before any request
    from dataclasses import asdict

    from pipeline.doctor.checks import FAIL, diagnose, format_reports, to_json
    from pipeline.doctor.destination import diagnose_destination, format_destination

    with api_settings(settings, quiet=args.json) as resolved:
        reports = diagnose(resolved)
    destination = diagnose_destination(settings)
    ready = all(report.ready for report in reports) and (destination is None or destination.status != FAIL)
    if args.json:
        answer = to_json(reports)
        answer["ready"] = ready
        answer["destination"] = asdict(destination) if destination else None
        print(json.dumps(answer, indent=2))
    else:
        print(format_reports(reports))
        if destination is not None:
            print(format_destination(destination))
    return 0 if ready else 1
