"""``mdm correction``: the correction loop's requests (issue 21, standard 6.1)."""

from __future__ import annotations

import argparse

from mdm import db
from mdm.cli.common import out, run_id, warehouse
from mdm.cli.resolution import _record
from mdm.settings import Settings


def cmd_correction(settings: Settings, args: argparse.Namespace) -> int:
    from mdm import corrections

    db.prepare_database(settings)
    if args.correction_command == "run":
        detail = corrections.run_corrections(settings, warehouse(settings), run_id("correction"))
        out(f"business date {detail['business_date']}: {detail['raised']} raised, "
            f"{detail['reopened']} reopened, {detail['applied']} answers applied, "
            f"{detail['confirmed']} confirmed; sent {detail['sent'] or 'nothing'}")  # fmt: skip
        out(f"by state: {detail['by_state']}")
        return 0
    if args.correction_command == "list":
        with db.connect(db.warehouse_url(settings)) as conn:
            requests = corrections.list_requests(conn, args.department, args.state)
        for r in requests:
            out(
                f"{r['request_id']} {r['state']:<9} {r['department']} {r['dataset']}/"
                f"{r['record_key']} {r['column_name']} {r['request_type']} raised {r['raised_on']}"
                + (f" sent in {r['sent_in']}" if r["sent_in"] else "")
            )
        out(f"{len(requests)} request(s)")
        return 0
    record = _record(args.record)
    if record is None:
        out(f"{args.record!r}: expected DATASET/RECORD_KEY, e.g. gat_czrk/R0001")
        return 2
    try:
        with db.connect(db.warehouse_url(settings)) as conn:
            request_id, new = corrections.report_problem(
                conn, *record, args.column, args.value, args.problem, args.suggest,
                origin=args.origin,
            )  # fmt: skip
    except (KeyError, ValueError) as err:
        out(f"not reported: {err}")
        return 2
    out(f"{'reported' if new else 'already reported'}: request {request_id}; the department "
        "receives it with the next mdm_corrections run")  # fmt: skip
    return 0


def add_correction(commands: argparse._SubParsersAction) -> None:
    correction = commands.add_parser(
        "correction", help="correction requests to the departments (found, sent, confirmed)"
    )
    actions = correction.add_subparsers(dest="correction_command", required=True, metavar="ACTION")
    listing = actions.add_parser("list", help="the requests and their states")
    listing.add_argument("--department", help="one department, e.g. 公安厅")
    listing.add_argument("--state", choices=("open", "reported", "answered", "confirmed",
                                              "rejected", "reopened"))  # fmt: skip
    report = actions.add_parser(
        "report", help="report a problem in a delivered value (a data user or steward)"
    )
    report.add_argument("record", help="DATASET/RECORD_KEY as delivered")
    report.add_argument("--column", required=True, help="the column as delivered, e.g. XM")
    report.add_argument("--value", required=True, help="the delivered value that is wrong")
    report.add_argument("--problem", required=True, help="what is wrong, in words")
    report.add_argument("--suggest", help="the right value, where known")
    report.add_argument("--origin", choices=("user", "steward"), default="user")
    actions.add_parser("run", help="run the loop now (same code as DAG mdm_corrections)")
    correction.set_defaults(handler=cmd_correction)
