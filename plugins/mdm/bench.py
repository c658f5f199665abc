"""``make bench``: measured numbers for the platform, written to ``bench-results/``.

Each later stage (generation, ingestion, resolution, the daily chain) adds its
measurements here. Speed targets live in these results, never in unit tests.
"""

from __future__ import annotations

import io
import json
import logging
import platform
import sys
import time
from collections.abc import Callable
from datetime import UTC, datetime
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

    from mdm.generate import GenerateConfig, generate, write_all

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


def run_benchmarks(settings: Settings) -> dict[str, Any]:
    from mdm.cli import prepare_database

    seconds, description = _timed(lambda: prepare_database(settings))
    url = db.warehouse_url(settings)
    results: dict[str, Any] = {
        "when": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": {"python": sys.version.split()[0], "platform": platform.platform()},
        "database": description,
        "prepare_database_s": round(seconds, 3),
        "plain_copy_unindexed": bench_plain_copy(url),
        "dbt_build": bench_dbt_build(settings, url),
        "generate_100k_persons": bench_generate(100_000),
    }
    return results


def write_results(results: dict[str, Any], folder: Path = RESULTS_DIR) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "latest.json"
    path.write_text(json.dumps(results, indent=2, ensure_ascii=False) + "\n")
    return path


def main() -> int:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s")
    results = run_benchmarks(load_settings())
    path = write_results(results)
    sys.stdout.write(json.dumps(results, indent=2, ensure_ascii=False) + "\n")
    logger.info("results written to %s", path)
    return 0


if __name__ == "__main__":
    sys.exit(main())
