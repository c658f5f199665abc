"""``mdm resolve``, ``mdm explain`` and ``mdm steward``: entity resolution by hand."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from mdm import db
from mdm.cli.common import out, run_id, warehouse
from mdm.settings import Settings


def cmd_resolve(settings: Settings, args: argparse.Namespace) -> int:
    from mdm import build

    db.prepare_database(settings)
    if args.resolve_command == "train":
        return _train(settings, args.model)
    if args.full:
        return _resolve_full(settings, args.keep, args.json)
    counts = build.resolve_entities(warehouse(settings), run_id("cli"))
    out(f"resolution: {counts}")
    return 0


def _train(settings: Settings, model: str) -> int:
    from mdm.resolve import splink_artefact
    from mdm.resolve.candidates import load_observations
    from mdm.resolve.entities import KINDS

    for kind in KINDS:
        if model not in ("all", kind.name, kind.event_kind):
            continue
        table = load_observations(warehouse(settings), kind=kind)
        if table.num_rows == 0:
            out(f"no {kind.name} observations: run the pipeline first (mdm run)")
            return 1
        path = splink_artefact.train(kind.model, table)
        out(f"written {path} ({table.num_rows} records); charts: {path.with_suffix('')}/index.html")
    return 0


def _resolve_full(settings: Settings, keep: bool, json_path: Path | None) -> int:
    from mdm.resolve.full import SCRATCH_SCHEMA, compare_full_with_incremental

    report = compare_full_with_incremental(warehouse(settings), run_id("cli"), settings, keep=keep)
    out("full re-resolution vs the incremental result (published ids are not changed)")
    out(
        f"{'':<13} {'records':>8} {'precision':>9} {'recall':>8} {'merged':>7} {'split':>6} "
        f"{'agree':>6}"
    )
    for kind in ("person", "organisation"):
        r = report[kind]
        out(
            f"{kind:<13} {r['records']:>8} {r['precision']:>9.6f} {r['recall']:>8.6f} "
            f"{r['over_merged_entities']:>7} {r['split_entities']:>6} {str(r['agree']):>6}"
        )
        for example in r["examples"]:
            out(f"  {example['entity_id']}: {example['records']} -> {example['full_run_groups']}")
    if keep:
        out(f"the full run is kept in schema {SCRATCH_SCHEMA}")
    if json_path:
        json_path.write_text(json.dumps(report, indent=2, ensure_ascii=False) + "\n")
        out(f"written {json_path}")
    return 0 if all(report[kind]["agree"] for kind in ("person", "organisation")) else 3


def cmd_explain(settings: Settings, args: argparse.Namespace) -> int:
    from mdm.resolve.explain import explain

    result = explain(warehouse(settings), args.entity_id)
    if not result["records"]:
        out(f"no source records for {args.entity_id}")
        return 1
    if args.html:
        from mdm.resolve.entities import kind_of_id
        from mdm.resolve.waterfall import explain_page

        threshold = kind_of_id(args.entity_id).model.LINK_THRESHOLD
        args.html.write_text(explain_page(result, threshold), encoding="utf-8")
        out(f"written {args.html} (a waterfall of match weights per Splink link)")
    out(f"{args.entity_id}: {len(result['records'])} source records")
    for r in result["records"]:
        probability = "" if r["match_probability"] is None else f" p={r['match_probability']:.4f}"
        out(f"  {r['dataset']:<11} {r['record_key']:<26} {r['match_method']:<19}{probability}")
    for e in result["events"]:
        weights = e["evidence"].get("weights", {})
        detail = ", ".join(f"{k.removeprefix('mw_')}={v:+.1f}" for k, v in weights.items() if v)
        out(
            f"  {e['occurred_at']:%Y-%m-%d %H:%M} {e['event']:<8} {e['entity_id']} -> "
            f"{e['into_id']} ({e['dataset']}/{e['record_key']}; {detail})"
        )
    if result["links"]:
        out(f"  {len(result['links'])} records linked to it (credit, certificates):")
    for k in result["links"]:
        out(
            f"  {k['dataset']:<11} {k['record_key']:<26} {k['link_method']:<19} "
            f"p={k['link_probability']:.4f}"
        )
    return 0


def _record(value: str) -> tuple[str, str] | None:
    """``DATASET/RECORD_KEY`` -> (dataset, record key); None without a record key."""
    dataset, _, record_key = value.partition("/")
    return (dataset, record_key) if record_key else None


def cmd_steward(settings: Settings, args: argparse.Namespace) -> int:
    from mdm.resolve import steward

    db.prepare_database(settings)
    if args.steward_command == "list":
        with db.connect(db.warehouse_url(settings)) as conn:
            decisions = steward.decisions_in_force(conn)
        for row in decisions:
            out(
                f"{row[0]:>4} {row[1]:<11} {row[2]} {row[3]} by {row[4]} "
                f"{row[5]:%Y-%m-%d}: {row[6]}"
            )
        return 0
    if args.steward_command == "withdraw":
        with db.connect(db.warehouse_url(settings)) as conn:
            withdrawn = steward.withdraw_decision(conn, args.decision_id)
        out(f"decision {args.decision_id} withdrawn" if withdrawn else "no such decision")
        return 0 if withdrawn else 1
    records = []
    for value in (args.a, args.b):
        record = _record(value)
        if record is None:
            out(f"{value!r}: expected DATASET/RECORD_KEY, e.g. gat_czrk/4501...#SELF")
            return 2
        records.append(record)
    decision = "must_link" if args.steward_command == "merge" else "cannot_link"
    outcome = steward.decide(
        warehouse(settings), decision, records[0], records[1], args.reason, run_id("steward")
    )
    counts = outcome.counts
    applied = (
        f"applied: {counts['merged']} merged, {counts['split']} split, "
        f"{counts['conflicts']} conflicts, {counts['waiting_for_records']} waiting for records; "
        "the repositories follow at the next mdm_build"
    )
    if outcome.refused:
        out(
            f"refused: decision {outcome.decision_id} ({args.a} and {args.b} are "
            "one entity) would join records under a cannot-link decision; it stays recorded "
            "but is not applied until that one is withdrawn (mdm steward list / withdraw)"
        )
        out(applied)
        return 1
    verb = "are one entity" if decision == "must_link" else "are never one entity"
    out(f"decision {outcome.decision_id}: {args.a} and {args.b} {verb}")
    out(applied)
    return 0


def add_resolve(commands: argparse._SubParsersAction) -> None:
    resolve = commands.add_parser("resolve", help="entity resolution")
    resolve_commands = resolve.add_subparsers(
        dest="resolve_command", required=True, metavar="ACTION"
    )
    resolve_train = resolve_commands.add_parser(
        "train",
        help="train the Splink models on the warehouse's observations and write their files",
    )
    resolve_train.add_argument(
        "--model",
        choices=("all", "person", "legal_person"),
        default="all",
        help="which model to train (default: all)",
    )
    resolve_run = resolve_commands.add_parser(
        "run",
        help="resolve unresolved records now; --full re-resolves everything and reports "
        "the difference from the incremental result",
    )
    resolve_run.add_argument(
        "--full",
        action="store_true",
        help="re-resolve every record in a scratch schema and compare (exit 3 if they differ)",
    )
    resolve_run.add_argument("--keep", action="store_true", help="keep the scratch schema")
    resolve_run.add_argument("--json", type=Path, help="also write the comparison as JSON here")
    resolve.set_defaults(handler=cmd_resolve)


def add_explain(commands: argparse._SubParsersAction) -> None:
    explain_parser = commands.add_parser(
        "explain", help="the source records of an entity and how each was linked"
    )
    explain_parser.add_argument("entity_id", help="a person_id (P...) or legal_person_id (L...)")
    explain_parser.add_argument(
        "--html",
        type=Path,
        metavar="FILE",
        help="also write a page with a waterfall chart of each Splink link (for stewards)",
    )
    explain_parser.set_defaults(handler=cmd_explain)


def add_steward(commands: argparse._SubParsersAction) -> None:
    steward = commands.add_parser("steward", help="steward decisions every resolution honours")
    steward_commands = steward.add_subparsers(
        dest="steward_command", required=True, metavar="ACTION"
    )
    for action, help_text in (
        ("merge", "two records are one entity (must-link): their entities merge now"),
        ("split", "two records are different entities (cannot-link): B moves out now"),
        ("cannot-link", "same as split"),
    ):
        decision = steward_commands.add_parser(action, help=help_text)
        decision.add_argument("a", help="DATASET/RECORD_KEY")
        decision.add_argument("b", help="DATASET/RECORD_KEY")
        decision.add_argument("--reason", required=True, help="why: kept with the decision")
    steward_commands.add_parser("list", help="decisions in force")
    withdraw = steward_commands.add_parser("withdraw", help="withdraw a decision (by its id)")
    withdraw.add_argument("decision_id", type=int)
    steward.set_defaults(handler=cmd_steward)
