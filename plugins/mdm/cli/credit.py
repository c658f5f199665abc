"""``mdm credit``: the 信易贷 credit profile, its explanation, the banks and the monthly push."""

from __future__ import annotations

import argparse
import datetime as dt
import json

from mdm import db
from mdm.cli.access import _expiry
from mdm.cli.common import out, run_id, warehouse
from mdm.settings import Settings


def cmd_credit(settings: Settings, args: argparse.Namespace) -> int:
    from mdm.credit import banks, explain, profile, push

    db.ensure_server(settings)
    if args.credit_command == "build":
        as_of = dt.date.fromisoformat(args.as_of) if args.as_of else None
        detail = profile.build_credit(settings, warehouse(settings), run_id("cli_credit"), as_of)
        if "skipped" in detail:
            out(f"nothing built: {detail['skipped']}")
            return 1
        out(f"{detail['profiles']} profiles; stale sources: {detail['stale_sources'] or 'none'}")
        return 0
    if args.credit_command == "push":
        month = dt.date.fromisoformat(f"{args.month}-01") if args.month else None
        result = push.monthly_push(
            warehouse(settings), settings.home / "outbox", run_id("cli_credit_push"), month,
            force=args.force,
        )  # fmt: skip
        out(json.dumps(result, ensure_ascii=False))
        return 0
    with db.connect(db.warehouse_url(settings)) as conn:
        if conn.execute("select to_regclass('credit.evaluation')").fetchone() == (None,):
            out("no credit profile yet: run `mdm credit build` after a build of the repositories")
            return 1
        if args.credit_command == "explain":
            explained = explain.explain(conn, args.code)
            if explained is None:
                out(f"no legal person with credit code or id {args.code}")
                return 1
            for line in explain.format_explanation(explained):
                out(line)
        elif args.credit_command == "bank-add":
            grant_id = banks.register_bank(
                conn, args.consumer, args.uscc, args.name, _expiry(args.expires)
            )
            conn.commit()
            out(f"bank {args.consumer}: role mdm_share_{args.consumer} reads "
                f"share.{args.consumer}__credit_profile (grant {grant_id})")  # fmt: skip
        else:
            for bank in banks.list_banks(conn):
                out(
                    f"{bank['consumer']:<10} {bank['bank_uscc']} {bank['bank_name']}: "
                    f"{bank['live_authorisations']} live authorisations "
                    f"({bank['authorisations']} delivered)"
                )
                for g in bank["grants"]:
                    state = f"revoked {g['revoked_at']}" if g["revoked_at"] else "live"
                    out(
                        f"    grant {g['grant_id']} {g['view']} until {g['expires_at']} {state}: "
                        f"{g['reads']} reads, {g['rows_read']} rows, last {g['last_read']}"
                    )
    return 0


def add_credit(commands: argparse._SubParsersAction) -> None:
    credit = commands.add_parser(
        "credit",
        help="信易贷: credit profiles, their explanation, banks, the monthly push",
        description="The enterprise credit profile (schema credit), the rule-based grade line "
        "by line, the banks reading share.<bank>__credit_profile within enterprises' "
        "authorisations (xyd_sq), and the monthly push to the financing platform.",
    )
    actions = credit.add_subparsers(dest="credit_command", required=True, metavar="ACTION")
    build = actions.add_parser(
        "build", help="build the profile and evaluation from what is published"
    )
    build.add_argument(
        "--as-of",
        metavar="YYYY-MM-DD",
        help="compute for the end of this business day (a replay); default: now",
    )
    explain = actions.add_parser("explain", help="an enterprise's profile and grade, line by line")
    explain.add_argument("code", help="credit code (or legal person id)")
    actions.add_parser("banks", help="banks, their authorisations, grants and reads")
    bank = actions.add_parser("bank-add", help="register a bank and grant its view")
    bank.add_argument("--consumer", required=True, help="short name, e.g. icbc")
    bank.add_argument("--uscc", required=True, help="credit code (xyd_sq YHDM)")
    bank.add_argument("--name", required=True, help="the bank's name")
    bank.add_argument("--expires", required=True, help="end of the bank's agreement (ISO date)")
    push = actions.add_parser("push", help="push this month's evaluations (table + outbox file)")
    push.add_argument("--month", help="YYYY-MM (default: this month, Beijing time)")
    push.add_argument("--force", action="store_true", help="push a month again")
    credit.set_defaults(handler=cmd_credit)
