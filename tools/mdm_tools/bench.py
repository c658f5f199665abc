"""``make bench``: measured numbers for the platform, written to ``bench-results/``.

Each later stage (generation, ingestion, resolution, the daily chain) adds its
measurements here. Speed targets live in these results, never in unit tests.
"""

from __future__ import annotations

import datetime as dt
import io
import json
import logging
import os
import platform
import sys
import time
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from functools import partial
from pathlib import Path
from typing import Any

import psycopg

from mdm import db
from mdm.connections import params_from_url
from mdm.settings import PROJECT_ROOT, Settings, load_settings

logger = logging.getLogger(__name__)

RESULTS_DIR = PROJECT_ROOT / "bench-results"
COPY_ROWS = 1_000_000


def _timed(fn: Callable[[], Any]) -> tuple[float, Any]:
    started = time.perf_counter()
    value = fn()
    return time.perf_counter() - started, value


def bench_plain_copy(url: str, rows: int = COPY_ROWS) -> dict[str, Any]:
    """Baseline for ingestion: COPY of person-shaped text rows into an unindexed table."""
    buffer = io.StringIO()
    for i in range(rows):
        buffer.write(f"P{i:09d}\t45010219900101{i % 1000:03d}X\t张三{i % 97}\t1\t08\t19900101\n")
    payload = buffer.getvalue().encode()
    with psycopg.connect(url) as conn:
        # A regular (WAL-logged) table, like raw.*: a temporary table would flatter COPY.
        conn.execute("drop table if exists ops.bench_copy")
        conn.execute(
            "create table ops.bench_copy "
            "(rybh text, gmsfhm text, xm text, xb text, mz text, csrq text)"
        )

        def copy() -> None:
            with conn.cursor() as cur, cur.copy("copy ops.bench_copy from stdin") as copy_:
                for start in range(0, len(payload), 1 << 20):
                    copy_.write(payload[start : start + (1 << 20)])

        seconds, _ = _timed(copy)
        conn.execute("drop table ops.bench_copy")
    return {"rows": rows, "seconds": round(seconds, 3), "rows_per_s": round(rows / seconds)}


def bench_dbt_build(settings: Settings, url: str) -> dict[str, Any]:
    from mdm.transform import run_dbt

    seconds, nodes = _timed(lambda: run_dbt(settings, params_from_url(url), ["build"]))
    return {"nodes": len(nodes), "seconds": round(seconds, 3)}


def bench_generate(persons: int) -> dict[str, Any]:
    """Generation throughput: world + all ten datasets rendered and written (no database)."""
    import tempfile

    from mdm_tools.generate import GenerateConfig, generate, write_all

    with tempfile.TemporaryDirectory() as folder:

        def run() -> Any:
            summary = generate(GenerateConfig(persons=persons, orgs=persons // 10, days=2, seed=1))
            write_all(summary, Path(folder) / "landing", Path(folder) / "truth")
            return summary

        seconds, summary = _timed(run)
    rows = sum(sum(d.rows.values()) for d in summary.deliveries)
    rows += sum(len(r) for r in summary.frontend_rows.values())
    return {
        "persons": persons,
        "rows": rows,
        "seconds": round(seconds, 2),
        "rows_per_s": round(rows / seconds),
    }


def register_delivery(landing: Path, rows: int) -> Path:
    """A full ``gat_czrk`` delivery of ``rows`` register rows (UTF-8 with BOM), with manifest."""
    import hashlib

    from mdm.registry import dataset

    spec = dataset("gat_czrk")
    folder = landing / "gat_czrk" / "20261101-01"
    folder.mkdir(parents=True, exist_ok=True)
    surnames, given = "王李张刘陈杨黄赵吴周韦覃蒙莫", "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞"
    buffer = io.StringIO()
    buffer.write("\ufeff" + ",".join(spec.file_columns("full")) + "\n")
    for i in range(rows):
        name = surnames[i % 14] + given[i % 19] + given[(i // 19) % 19]
        birth = f"{1940 + i % 80}{1 + i % 12:02d}{1 + i % 28:02d}"
        buffer.write(
            f"R{i:010d},450102{birth}{i % 1000:03d}X,{name},,{1 + i % 2},08,{birth},"
            f"450102,民主路{i % 500}号{i % 30}栋,0,,20261031{i % 24:02d}0000\n"
        )
    data = buffer.getvalue().encode("utf-8")
    (folder / "part-all.csv").write_bytes(data)
    manifest = {
        "dataset": "gat_czrk",
        "delivery_id": "20261101-01",
        "provider": spec.provider,
        "extract_time": "2026-11-01T02:00:00+08:00",
        "mode": "full",
        "encoding": "UTF-8",
        "files": [
            {"name": "part-all.csv", "rows": rows, "sha256": hashlib.sha256(data).hexdigest()}
        ],
    }
    (folder / "_manifest.json").write_text(json.dumps(manifest, ensure_ascii=False))
    return folder


def bench_ingest(url: str, rows: int = COPY_ROWS) -> dict[str, Any]:
    """Ingest of a 1M-row CSV delivery next to a plain COPY of the same file, same run."""
    import tempfile

    import great_expectations  # noqa: F401 - a one-off import (~5 s) per task process, not per row

    from mdm.ingest.files import ingest_file_drops
    from mdm.registry import dataset

    spec = dataset("gat_czrk")
    columns = ", ".join(c.lower() for c in spec.file_columns("full"))
    with tempfile.TemporaryDirectory() as tmp, psycopg.connect(url, autocommit=True) as conn:
        folder = register_delivery(Path(tmp), rows)
        csv_path = folder / "part-all.csv"
        size = csv_path.stat().st_size
        conn.execute("drop table if exists ops.bench_plain_copy")
        conn.execute(
            "create table ops.bench_plain_copy "
            f"({', '.join(c + ' text' for c in columns.split(', '))})"
        )

        def plain_copy() -> None:
            statement = (
                f"copy ops.bench_plain_copy ({columns}) from stdin (format csv, header true)"
            )
            with conn.cursor() as cur, cur.copy(statement) as copy_, open(csv_path, "rb") as f:
                f.read(3)  # the BOM
                while chunk := f.read(1 << 20):
                    copy_.write(chunk)

        plain_s, _ = _timed(plain_copy)
        conn.execute("drop table ops.bench_plain_copy")
        # Ingest into a scratch schema state: the delivery must be new to the ledger.
        conn.execute("delete from ops.delivery where dataset = 'gat_czrk'")
        conn.execute("drop table if exists raw.gat_czrk cascade")
        ingest_s, report = _timed(
            lambda: ingest_file_drops(params_from_url(url), Path(tmp), spec, "bench")
        )
        outcome = report.outcomes[0]
        from mdm.ingest.run import profile_deliveries

        profile_s, _ = _timed(
            lambda: profile_deliveries("gat_czrk", params_from_url(url), ["20261101-01"])
        )
        conn.execute("delete from ops.delivery where dataset = 'gat_czrk'")
        conn.execute("drop table if exists raw.gat_czrk cascade")
    return {
        "rows": rows,
        "bytes": size,
        "plain_copy_s": round(plain_s, 3),
        "plain_copy_rows_per_s": round(rows / plain_s),
        "ingest_s": round(ingest_s, 3),
        "ingest_rows_per_s": round(rows / ingest_s),
        "ingest_over_plain_copy": round(plain_s / ingest_s, 3),
        "profile_s": round(profile_s, 3),
        "ingest_status": outcome.status,
        "ingest_rows_loaded": outcome.rows_loaded,
        "note": "ingest = manifest + sha256 + header, encoding and row checks + COPY + GX gate "
        "(critical suite) + attach + ledger, GX already imported; the warning-level profile "
        "suite runs after, see profile_s. Plain COPY = the same file straight into an "
        "unindexed text table",
    }


def _peak_rss_mb() -> float:
    import resource

    return round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)


def _database_mb(url: str) -> float:
    with psycopg.connect(url) as conn:
        row = conn.execute("select pg_database_size(current_database())").fetchone()
    return round((row[0] if row else 0) / 2**20, 1)


def bench_pipeline(settings: Settings, persons: int) -> dict[str, Any]:
    """Two days end to end on a generated world: seconds per stage, resolution quality.

    Day 1 resolves every record from nothing (full resolution); day 2 ingests the day's
    deltas and resolves only the new and changed records against the existing entities
    (the daily, incremental run).
    """
    import tempfile

    from mdm import build
    from mdm.ingest.files import ingest_file_drops
    from mdm.ingest.frontend import pull_frontend
    from mdm.ingest.raw_tables import ensure_all_raw_tables
    from mdm.registry import datasets
    from mdm_tools.evaluate import evaluate
    from mdm_tools.generate import GenerateConfig, generate, write_all, write_frontend

    url = db.warehouse_url(settings)
    warehouse = params_from_url(url)
    frontend = params_from_url(db.frontend_url(settings))
    config = GenerateConfig(persons=persons, orgs=persons // 10, days=2, seed=5)
    stages: dict[str, float] = {}
    with psycopg.connect(url, autocommit=True) as conn:
        # A clean slate for the measured world (the bench owns this database).
        conn.execute("drop schema if exists raw cascade")
        conn.execute("create schema raw")
        conn.execute(
            "truncate ops.delivery, ops.delivery_event, ops.frontend_watermark, "
            "ops.validation_result, quarantine.delivery_row, resolve.person_record, "
            "resolve.legal_person_record, resolve.entity_event, access.person_pseudonym"
        )
        # A new world is a new deployment: nothing published yet (the publish gate would
        # refuse a world of another size against the previous publish's row counts).
        conn.execute(
            "drop table if exists mdm.natural_person, mdm.legal_person, mdm.natural_person_xref, "
            "mdm.legal_person_xref, mdm.relation cascade"
        )
        ensure_all_raw_tables(conn)
    with psycopg.connect(db.frontend_url(settings), autocommit=True) as conn:
        conn.execute("drop table if exists public.swj_grnsr, public.swj_dwnsr")
    resolved: dict[str, Any] = {}
    records: dict[str, int] = {}
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        stages["generate_s"], summary = _timed(lambda: generate(config))
        stages["write_s"], _ = _timed(
            lambda: (
                write_all(summary, folder / "landing", folder / "truth"),
                write_frontend(db.frontend_url(settings), summary.frontend_rows),
            )
        )
        for day in (1, 2):
            until = (config.start + dt.timedelta(days=day - 1)).strftime("%Y%m%d")

            def ingest(until: str = until, day: int = day) -> None:
                for spec in datasets().values():
                    if spec.channel == "file":
                        ingest_file_drops(warehouse, folder / "landing", spec, "bench", until=until)
                    elif day == 1:  # the front end holds its final state: pulled once
                        pull_frontend(warehouse, frontend, spec, "bench")

            run_id = f"bench-day{day}"
            stages[f"day{day}_ingest_s"], _ = _timed(ingest)
            stages[f"day{day}_observations_s"], _ = _timed(
                partial(build.build_observations, settings, warehouse, run_id)
            )
            records[f"day{day}_person_records_new"] = _count(
                url,
                "select count(*) from intermediate.int_person_observations o where not "
                "exists (select 1 from resolve.person_record r where r.dataset = o.dataset "
                "and r.record_key = o.record_key)",
            )
            name = "resolve_full_s" if day == 1 else "resolve_incremental_s"
            stages[f"day{day}_{name}"], resolved[f"day{day}"] = _timed(
                partial(build.resolve_entities, warehouse, run_id)
            )
            stages[f"day{day}_repositories_s"], _ = _timed(
                partial(build.build_repositories, settings, warehouse, run_id)
            )
        # Against the truth: pairwise quality, the hard cases, the published repositories.
        evaluation = evaluate(warehouse, folder / "truth")
    records["person_records"] = evaluation["person"]["records"]
    records["organisation_records"] = evaluation["organisation"]["records"]
    delta = bench_resolve_delta(url)
    return {
        "persons": persons,
        "seconds": {k: round(v, 2) for k, v in stages.items()},
        "records": records,
        "resolution": resolved,
        "resolve_delta_1pct": delta,
        "peak_rss_mb": _peak_rss_mb(),
        "warehouse_mb": _database_mb(url),
        "person_quality": evaluation["person"],
        "organisation_quality": evaluation["organisation"],
        "hard_cases": evaluation["hard_cases"],
        "repository_quality": evaluation["repository"],
    }


def bench_resolve_delta(url: str, fraction: float = 0.01, seed: float = 0.42) -> dict[str, Any]:
    """Resolve a daily delta of ``fraction`` of the records against everything else.

    A sample of resolved records is forgotten (as if delivered today), then the daily
    resolution runs. The entities they end up in are compared with before: same partition
    of the records (ids of singletons are new by design; everything else keeps its id).
    """
    from mdm_tools.evaluate import pairwise, predicted

    warehouse = params_from_url(url)
    with psycopg.connect(url) as conn:
        before = predicted(conn)
        conn.execute("select setseed(%s)", (seed,))
        forgotten = conn.execute(
            "delete from resolve.person_record where random() < %s", (fraction,)
        ).rowcount
        forgotten += conn.execute(
            "delete from resolve.legal_person_record where random() < %s", (fraction,)
        ).rowcount
    from mdm import build

    seconds, counts = _timed(lambda: build.resolve_entities(warehouse, "bench-delta"))
    with psycopg.connect(url) as conn:
        after = predicted(conn)
    agreement = {kind: pairwise(after[kind], before[kind]) for kind in before}
    return {
        "fraction": fraction,
        "records": forgotten,
        "seconds": round(seconds, 2),
        "resolution": counts,
        "same_entities": {
            kind: {k: v for k, v in r.items() if k in ("precision", "recall", "records")}
            for kind, r in agreement.items()
        },
    }


def bench_splink_backends(settings: Settings) -> dict[str, Any]:
    """Splink scoring of the warehouse's current singletons on DuckDB and on Spark (local).

    Same input, same model: seconds per backend (Spark's includes starting its session)
    and whether the scored pairs are the same.
    """
    import dataclasses

    from mdm.resolve.candidates import load_candidates, with_former_name_aliases
    from mdm.resolve.scoring import score_pairs

    warehouse = params_from_url(db.warehouse_url(settings))
    load_s, (left, candidates) = _timed(lambda: load_candidates(warehouse))
    table, _ = with_former_name_aliases(candidates)
    results: dict[str, Any] = {
        "singletons": left.num_rows,
        "candidate_records": candidates.num_rows,
        "load_candidates_s": round(load_s, 2),
    }
    decisions = {}
    for backend in ("duckdb", "spark"):
        on = dataclasses.replace(settings, splink_backend=backend)
        seconds, (pairs, _) = _timed(partial(score_pairs, on, left, table))
        decisions[backend] = [
            (p["unique_id_l"], p["unique_id_r"], round(p["match_probability"], 9)) for p in pairs
        ]
        results[f"{backend}_s"] = round(seconds, 2)
        results[f"{backend}_pairs"] = len(pairs)
    results["same_pairs_and_scores"] = decisions["duckdb"] == decisions["spark"]
    return results


def _count(url: str, query: str) -> int:
    with psycopg.connect(url) as conn:
        row = conn.execute(query).fetchone()
    return int(row[0]) if row else 0


def _size_label(persons: int) -> str:
    return f"{persons // 1_000_000}m" if persons % 1_000_000 == 0 else f"{persons // 1000}k"


def run_benchmarks(
    settings: Settings,
    pipeline_sizes: Sequence[int] = (100_000,),
    only_pipeline: bool = False,
    name: str = "latest",
) -> dict[str, Any]:
    """Every bench; the results file is rewritten after each one (a long run keeps its part)."""
    seconds, description = _timed(lambda: db.prepare_database(settings))
    url = db.warehouse_url(settings)
    results: dict[str, Any] = {
        "when": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": {
            "python": sys.version.split()[0],
            "platform": platform.platform(),
            "cpus": os.cpu_count(),
        },
        "database": description,
        "splink_backend": settings.splink_backend,
        "prepare_database_s": round(seconds, 3),
    }
    if not only_pipeline:
        results["plain_copy_unindexed"] = bench_plain_copy(url)
        results["ingest_1m_row_csv_delivery"] = bench_ingest(url)
        results["dbt_build"] = bench_dbt_build(settings, url)
        results["generate_100k_persons"] = bench_generate(100_000)
    sizes = list(pipeline_sizes)
    if os.environ.get("MDM_BENCH_1M_PERSONS") and 1_000_000 not in sizes:
        sizes.append(1_000_000)  # long, and ~4.5 GB to generate: opt-in
    for persons in sizes:
        logger.info("pipeline bench: %d persons", persons)
        results[f"pipeline_{_size_label(persons)}_persons"] = bench_pipeline(settings, persons)
        # On the world just built: the same scoring on DuckDB and on Spark.
        results[f"splink_backends_{_size_label(persons)}_persons"] = bench_splink_backends(settings)
        write_results(results, name=name)
    return results


def write_results(
    results: dict[str, Any], folder: Path = RESULTS_DIR, name: str = "latest"
) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{name}.json"
    path.write_text(json.dumps(results, indent=2, ensure_ascii=False) + "\n")
    return path


def main(argv: Sequence[str] | None = None) -> int:
    import argparse

    parser = argparse.ArgumentParser(prog="python -m mdm_tools.bench", description=__doc__)
    parser.add_argument(
        "--pipeline-sizes",
        default="100000",
        help="comma-separated world sizes (persons) for the two-day pipeline bench",
    )
    parser.add_argument(
        "--only-pipeline", action="store_true", help="skip the ingestion and dbt micro-benches"
    )
    parser.add_argument("--name", default="latest", help="results file bench-results/<name>.json")
    parser.add_argument(
        "--splink-backends-only",
        action="store_true",
        help="only time Splink on DuckDB and on Spark over the warehouse's current singletons",
    )
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s")
    if args.splink_backends_only:
        settings = load_settings()
        db.prepare_database(settings)
        path = write_results({"splink_backends": bench_splink_backends(settings)}, name=args.name)
        logger.info("results written to %s", path)
        return 0
    sizes = [int(size) for size in args.pipeline_sizes.split(",") if size.strip()]
    results = run_benchmarks(load_settings(), sizes, args.only_pipeline, args.name)
    path = write_results(results, name=args.name)
    sys.stdout.write(json.dumps(results, indent=2, ensure_ascii=False) + "\n")
    logger.info("results written to %s", path)
    return 0


if __name__ == "__main__":
    sys.exit(main())
