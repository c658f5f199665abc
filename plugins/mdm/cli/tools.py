"""``mdm generate`` and ``mdm evaluate``: the tools beside the platform (package mdm_tools).

They are imported when one of these commands runs, never by the runtime.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import time
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from mdm import db
from mdm.cli import terminal
from mdm.cli.common import out, warehouse
from mdm.settings import Settings

if TYPE_CHECKING:
    from mdm_tools.generate import GenerateConfig


@dataclass(frozen=True)
class Generated:
    deliveries: int
    rows: int
    landing: Path
    truth_dir: Path
    truth_records: int
    frontend: dict[str, int] | None  # rows written per front-end table
    seconds: float


def generate_world(
    settings: Settings, config: GenerateConfig, folder: Path | None, frontend: bool
) -> Generated:
    """Write the world's deliveries, truth and (``frontend``) front-end tables."""
    from mdm_tools.generate import generate, write_all, write_frontend, write_frontend_late

    landing = (folder / "landing") if folder else settings.landing_dir
    truth_dir = (folder / "truth") if folder else settings.home / "truth"
    started = time.monotonic()
    summary = generate(config)
    write_all(summary, landing, truth_dir)
    counts = None
    if frontend:
        db.prepare_database(settings)
        counts = write_frontend(db.frontend_url(settings), summary.frontend_rows)
        if summary.frontend_late or summary.frontend_deleted:  # front-end defects, 2nd arrival
            write_frontend_late(db.frontend_url(settings), summary)
    return Generated(
        deliveries=len(summary.deliveries),
        rows=sum(sum(d.rows.values()) for d in summary.deliveries),
        landing=landing,
        truth_dir=truth_dir,
        truth_records=len(summary.truth.records),
        frontend=counts,
        seconds=time.monotonic() - started,
    )


def show_generated(result: Generated) -> None:
    if result.frontend is not None:
        out(f"front-end tables: {result.frontend}")
    out(
        f"{result.deliveries} deliveries, {result.rows} rows in {result.landing}; truth in "
        f"{result.truth_dir} ({result.truth_records} records, {result.seconds:.1f}s)"
    )


def cmd_generate(settings: Settings, args: argparse.Namespace) -> int:
    from mdm_tools.generate import GenerateConfig
    from mdm_tools.generate.gaps import Gaps
    from mdm_tools.generate.noise import NoiseRates

    config = GenerateConfig(
        persons=args.persons,
        orgs=args.orgs if args.orgs is not None else max(1, args.persons // 10),
        days=args.days,
        seed=args.seed,
        defects=args.defects,
        rates=NoiseRates() if not args.clean else NoiseRates.none(),
        outbox=args.outbox if args.outbox is not None else settings.outbox_dir,
        gaps=Gaps.planned(args.days) if args.gaps else None,
    )
    with terminal.status(f"generating {config.persons:,} persons, {config.days} day(s)"):
        generated = generate_world(settings, config, args.out, frontend=not args.no_frontend)
    show_generated(generated)
    return 0


def cmd_bench(settings: Settings, args: argparse.Namespace) -> int:
    """``python -m mdm_tools.bench`` with the terminal of the other commands: a line per
    bench as it ends, logs in the log file."""
    from mdm_tools import bench

    def done(key: str, result: Any) -> None:
        seconds = bench_seconds(result)
        out(f"✓ {key:<44} {'' if seconds is None else f'{seconds:8.1f}s'}")

    argv = [a for a in args.bench_args if a != "--"]
    if {"-h", "--help"} & set(argv):  # the bench's own help, here rather than in the log
        with contextlib.redirect_stdout(terminal.current().out.file):
            try:
                return bench.main(argv)
            except SystemExit as done_:
                return int(done_.code or 0)
    with terminal.status("benchmarks"):
        code = bench.main(argv, on_result=done)
    out(f"results: {bench.RESULTS_DIR}")
    return code


def bench_seconds(result: Any) -> float | None:
    """A bench result's seconds: its ``seconds``, or the sum of its stages' seconds."""
    if not isinstance(result, dict):
        return None
    seconds = result.get("seconds")
    if isinstance(seconds, int | float):
        return float(seconds)
    if isinstance(seconds, dict):
        return float(sum(v for v in seconds.values() if isinstance(v, int | float)))
    return None


def evaluate_against_truth(settings: Settings, truth_dir: Path) -> dict[str, Any]:
    from mdm_tools.evaluate import evaluate

    return evaluate(warehouse(settings), truth_dir)


def cmd_evaluate(settings: Settings, args: argparse.Namespace) -> int:
    results = evaluate_against_truth(settings, args.truth or settings.home / "truth")
    out(
        f"{'':<13} {'records':>8} {'precision':>9} {'recall':>8} {'f1':>8} "
        f"{'over-merged':>11} {'split':>6}"
    )
    for kind in ("person", "organisation"):
        r = results[kind]
        out(
            f"{kind:<13} {r['records']:>8} {r['precision']:>9.4f} {r['recall']:>8.4f} "
            f"{r['f1']:>8.4f} {r['over_merged_entities']:>11} {r['split_entities']:>6}"
        )
    r = results["justice_person"]
    out(
        f"{'  justice':<13} {r['records']:>8} {r['precision']:>9.4f} {r['recall']:>8.4f} "
        f"{r['f1']:>8.4f} {r['over_merged_entities']:>11} {r['split_entities']:>6}"
        "   (persons of institutions and practitioners)"
    )
    person = results["person"]
    out(
        f"twin pairs merged into one person: {person['twin_pairs_merged']} "
        f"of {person['twin_pairs']}"
    )
    organisation = results["organisation"]
    out(
        f"organisations of one owner made one: {organisation['same_owner_pairs_merged']} "
        f"of {organisation['same_owner_pairs']} pairs"
    )
    if results["hard_cases"]:
        out(f"{'hard case':<20} {'records':>8} {'linked':>8} {'recall':>8} {'wrong':>6}")
        for case, r in results["hard_cases"].items():
            out(
                f"{case:<20} {r['records']:>8} {r['linked']:>8} {r['recall']:>8.4f} "
                f"{r['wrongly_linked']:>6}"
            )
    out(f"{'record links':<29} {'records':>8} {'linked':>7} {'precision':>9} {'recall':>8}")
    for group, r in results["links"].items():
        out(
            f"{group:<29} {r['records']:>8} {r['linked']:>7} {r['precision']:>9.4f} "
            f"{r['recall']:>8.4f}"
        )
    never = results.get("links_never_loaded", {})
    if never.get("records"):
        out(
            f"{'never loaded (left out)':<29} {never['records']:>8}  quarantined in every "
            f"delivery or deleted before a pull, e.g. {never['examples'][0]}"
        )
    certificates = results["certificates"]
    out(
        f"{'certificate matching':<29} {'records':>8} {'matched':>7} {'precision':>9} {'recall':>8}"
    )
    for group in ("with_ywlsh", "without_ywlsh"):
        r = certificates[group]
        out(
            f"{group:<29} {r['certificates']:>8} {r['matched']:>7} {r['precision']:>9.4f} "
            f"{r['recall']:>8.4f}"
        )
    rates, twice = certificates["rates"], certificates["duplicates"]
    out(
        f"certificates: orphans kept {certificates['orphans'].get('kept_unmatched', 0)} of "
        f"{certificates['orphans'].get('true', 0)}; aggregated twice recognised "
        f"{twice['recognised']} of {twice['true']}; rate per type and prefecture equal to the "
        f"truth in {rates['equal']} of {rates['cells']} cells"
    )
    repository = results["repository"]
    if repository:
        out(
            f"persons published {repository['published_persons']} for "
            f"{repository['true_persons']} true ({repository['published_persons_excess']:+.2%}); "
            f"golden ID number, sex and birth date right: {repository['golden_identity_right']:.2%}"
        )
        out(
            f"employee relations: recall {repository['employee_recall']:.4f}, "
            f"precision {repository['employee_precision']:.4f} "
            f"({repository['employee_relations']} true); employers named without a valid "
            f"code: {repository['employer_by_name_recall']:.4f} of "
            f"{repository['employer_by_name_records']}"
        )
        out(f"{'relation':<21} {'true':>6} {'published':>9} {'recall':>8} {'precision':>9}")
        for relation_type, r in repository["relations"].items():
            out(
                f"{relation_type:<21} {r['true']:>6} {r['published']:>9} {r['recall']:>8.4f} "
                f"{r['precision']:>9.4f}"
            )
        legal = repository["legal_persons"]
        out(
            f"legal persons published {legal['published']}; right: name {legal['name_right']:.2%}, "
            f"credit code {legal['uscc_right']:.2%}, status {legal['status_right']:.2%}, "
            f"legal representative {legal['legal_rep_right']:.2%}"
        )
    results["credit"] = _credit_section(settings, args.truth or settings.home / "truth")
    churn = results["id_churn"]
    out(
        f"id churn in the latest run ({churn['run_id']}): {churn['records_moved']} records "
        f"moved between entities, {churn['ids_retired']} ids retired"
    )
    if args.json:
        args.json.write_text(json.dumps(results, indent=2) + "\n")
        out(f"written {args.json}")
    return 0


def _credit_section(settings: Settings, truth_dir: Path) -> dict[str, Any]:
    """The credit profile's facts against the truth (issue 22), when both are there."""
    from mdm_tools.credit_eval import FACTS, credit_accuracy

    with db.connect(db.warehouse_url(settings)) as conn:
        built = conn.execute("select to_regclass('credit.enterprise_profile')").fetchone()
    if not (built and built[0]) or not (truth_dir / "credit_profile.csv").exists():
        return {}
    found = credit_accuracy(warehouse(settings), truth_dir)
    for group in ("enterprises", "all_coded"):
        shares = ", ".join(f"{f} {found[group][f]['share']}" for f in FACTS)
        out(f"credit profile, {group} ({found[group]['all']['checked']}): all facts right "
            f"{found[group]['all']['share']}; {shares}")  # fmt: skip
    return found


def add_generate(commands: argparse._SubParsersAction) -> None:
    gen = commands.add_parser(
        "generate",
        help="write realistic department deliveries with ground truth",
        description="A seeded synthetic Guangxi: file drops into the landing zone, the tax "
        "front-end tables into the frontend database, ground truth into "
        "$MDM_HOME/truth (never inside the landing zone).",
    )
    gen.add_argument("--persons", type=int, default=10_000, help="persons in the world")
    gen.add_argument("--orgs", type=int, default=None, help="organisations (default persons/10)")
    gen.add_argument("--days", type=int, default=1, help="day 1 full deliveries, then daily deltas")
    gen.add_argument("--seed", type=int, default=1, help="same seed, same bytes")
    gen.add_argument("--out", type=Path, help="write landing/ and truth/ under this folder instead")
    gen.add_argument(
        "--defects",
        action="store_true",
        help="add the delivery-level defects of the interface standard",
    )
    gen.add_argument(
        "--gaps",
        action="store_true",
        help="plant gaps the scorecard must see (at least 10 days): daily deltas that never "
        "came, a front-end table frozen half-way, a city's part missing from a delivery split by "
        "city, columns delivered blank (truth/delivery_gaps.json)",
    )
    gen.add_argument("--clean", action="store_true", help="no value noise")
    gen.add_argument(
        "--outbox",
        type=Path,
        help="the platform's outbox whose correction requests (standard 6.1) the departments "
        "answer in jcfk on later days (default $MDM_SHARED_DIR/outbox; none there, no answers)",
    )
    gen.add_argument("--no-frontend", action="store_true", help="do not write the front-end tables")
    gen.set_defaults(handler=cmd_generate)


def add_bench(commands: argparse._SubParsersAction) -> None:
    bench = commands.add_parser(
        "bench",
        help="measure the platform (results in bench-results/; same as python -m mdm_tools.bench)",
        description="The benchmarks of mdm_tools.bench; arguments after `bench` go to it "
        "(`mdm bench -- --help`).",
    )
    bench.add_argument("bench_args", nargs=argparse.REMAINDER, help="arguments of the bench")
    bench.set_defaults(handler=cmd_bench)


def add_evaluate(commands: argparse._SubParsersAction) -> None:
    evaluation = commands.add_parser(
        "evaluate", help="pairwise precision / recall / F1 of the xrefs against the truth"
    )
    evaluation.add_argument("--truth", type=Path, help="truth folder (default $MDM_HOME/truth)")
    evaluation.add_argument("--json", type=Path, help="also write the results as JSON here")
    evaluation.set_defaults(handler=cmd_evaluate)
