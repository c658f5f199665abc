"""``mdm certificates``: the structured aggregation rate per certificate type and prefecture
of a quarter, or a holder's valid certificates (亮证; the read is logged with who asked)."""

from __future__ import annotations

import argparse
import getpass

from mdm.cli.common import out, warehouse
from mdm.settings import Settings


def cmd_certificates(settings: Settings, args: argparse.Namespace) -> int:
    from mdm import certificates

    if args.holder:
        found = certificates.holder_certificates(
            warehouse(settings), args.holder, args.asked_by or getpass.getuser(), args.purpose
        )
        if found["query_kind"] == "unknown":
            out(f"{args.holder!r} is no person id, legal person id, ID number or credit code")
            return 1
        out(
            f"{len(found['certificates'])} valid certificates of {found['holder_kind'] or '-'} "
            f"{found['holder_id'] or '(none found)'} (read logged in access.certificate_read_log)"
        )
        for c in found["certificates"]:
            out(
                f"  {c['certificate_type']:<11} {c['certificate_name'] or '':<12} "
                f"{c['certificate_number'] or '':<24} {c['holder_name'] or ''}  "
                f"{c['issuer_name'] or ''}  {c['issue_date']} - {c['valid_until'] or ''}"
                f"{'' if c['is_structured'] else '  (not structured)'}"
            )
        return 0
    quarter, rows = certificates.rates(warehouse(settings), args.quarter)
    if not rows:
        out(
            f"no certificate rate for {quarter or 'any quarter'} yet: "
            "run `mdm run` (or `mdm report`)"
        )
        return 1
    out(f"structured aggregation rate of the e-certificate library, {quarter} (target 80%):")
    for line in certificates.format_rate_table(rows, province_only=args.province):
        out("  " + line)
    return 0


def add_certificates(commands: argparse._SubParsersAction) -> None:
    parser = commands.add_parser(
        "certificates",
        help="the certificates' structured aggregation rate, or a holder's valid certificates",
        description="Without --holder: the structured aggregation rate per certificate type and "
        "prefecture of a quarter against the 80%% target (quality.quality_certificate_rate). "
        "With --holder: the holder's valid certificates; the read is logged "
        "(access.certificate_read_log) with --asked-by.",
    )
    parser.add_argument("--quarter", help="e.g. 2026Q4 (default: the latest)")
    parser.add_argument("--province", action="store_true", help="one row per type (no prefectures)")
    parser.add_argument("--holder", help="person id, legal person id, ID number or credit code")
    parser.add_argument("--asked-by", help="who asks (default: your login); written to the log")
    parser.add_argument("--purpose", help="why (written to the log)")
    parser.set_defaults(handler=cmd_certificates)
