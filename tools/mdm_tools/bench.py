"""``make bench``: measured numbers for the platform, written to ``bench-results/``.

Each later stage (generation, ingestion, resolution, the daily chain) adds its
measurements here. Speed targets live in these results, never in unit tests.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import io
import json
import logging
import os
import platform
import sys
import time
from collections.abc import Callable, Iterator, Sequence
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


def _clean_slate(settings: Settings, url: str) -> None:
    """A clean slate for the measured world (the bench owns this database)."""
    from mdm.ingest.raw_tables import ensure_all_raw_tables

    with psycopg.connect(url, autocommit=True) as conn:
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
        conn.execute("drop schema if exists mdm_history cascade")
        ensure_all_raw_tables(conn)
    with psycopg.connect(db.frontend_url(settings), autocommit=True) as conn:
        conn.execute("drop table if exists public.swj_grnsr, public.swj_dwnsr")


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
    from mdm.registry import datasets
    from mdm_tools.evaluate import evaluate
    from mdm_tools.generate import GenerateConfig, generate, write_all, write_frontend

    url = db.warehouse_url(settings)
    warehouse = params_from_url(url)
    frontend = params_from_url(db.frontend_url(settings))
    config = GenerateConfig(persons=persons, orgs=persons // 10, days=2, seed=5)
    stages: dict[str, float] = {}
    _clean_slate(settings, url)
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
        # issue 19's targets: justice persons (precision >= 0.999, F1 >= 0.995), record
        # links (coded P = R = 1.0; by name and address P >= 0.995, R >= 0.95)
        "justice_person_quality": evaluation["justice_person"],
        "link_quality": evaluation["links"],
        # issue 20's targets: rate per type and prefecture equal to the truth, matching
        # precision 1.0 with ywlsh, >= 0.995 without, recall >= 0.98 without
        "certificate_quality": evaluation["certificates"],
    }


# Issue 20: a holder's certificate list (亮证) answers in under 100 ms at 1M persons.
CERTIFICATE_LIST_TARGET_MS = 100


def bench_certificate_list(settings: Settings, samples: int = 200) -> dict[str, Any]:
    """A holder's valid certificates (``mdm.certificates.holder_certificates``: lookup, list
    and the read logged, each call on its own connection as the CLI does) for ``samples``
    holders of the published certificates, a third each by ID number, person id and credit
    code: milliseconds per call on an open connection (median, 95th percentile, max), and
    one call with its own connection (the CLI's way; the connection's authentication is
    most of it)."""
    import statistics

    from mdm.certificates import holder_certificates, list_certificates

    url = db.warehouse_url(settings)
    warehouse = params_from_url(url)
    with psycopg.connect(url) as conn:
        holders = [
            query
            for column, kind in (
                ("holder_code", "person"),  # ID numbers
                ("holder_person_id", "person"),
                ("holder_code", "legal_person"),  # credit codes
            )
            for (query,) in conn.execute(
                f"select {column} from mdm.certificate where holder_kind = %s "  # noqa: S608
                f"and {column} is not null group by 1 order by md5({column}) limit %s",
                (kind, samples // 3),
            )
        ]
    timings = []
    # on an open connection, as a service answering counters holds its pool
    with psycopg.connect(url) as conn:
        for query in holders:
            seconds, _ = _timed(partial(list_certificates, conn, query, "bench"))
            timings.append(seconds * 1000)
    timings.sort()
    connect_s, _ = _timed(partial(holder_certificates, warehouse, holders[0], "bench"))
    return {
        "connect_and_list_ms": round(connect_s * 1000, 2),
        "holders": len(timings),
        "certificates": _count(url, "select count(*) from mdm.certificate"),
        "median_ms": round(statistics.median(timings), 2) if timings else None,
        "p95_ms": round(timings[int(0.95 * (len(timings) - 1))], 2) if timings else None,
        "max_ms": round(timings[-1], 2) if timings else None,
        "target_ms": CERTIFICATE_LIST_TARGET_MS,
    }


# The daily scenarios of issue 18's targets: a share of all records new or changed in a day.
NORMAL_DAY_SHARE = 0.0005
ONE_PERCENT_DAY_SHARE = 0.01
# The stages of the daily chain, in order; the daily/full ratio is printed for each.
DAILY_STAGES = ("ingest", "check", "observations", "resolution", "repositories", "audit_publish")


class MemoryWatch:
    """Peak memory of one stage: this process's peak RSS (reset before the stage through
    ``/proc/self/clear_refs``) and the largest private memory (``RssAnon``, so not the shared
    buffers every backend maps) of any PostgreSQL backend of the warehouse's server, sampled
    every ``interval`` seconds by a thread reading ``/proc``. Either is None where it cannot
    be read (another OS, a server on another machine)."""

    def __init__(self, url: str, interval: float = 0.2) -> None:
        self.interval = interval
        self.postmaster = _postmaster_pid(url)
        self.backend_kb = 0
        self._stop: Any = None

    def __enter__(self) -> MemoryWatch:
        import threading

        _reset_peak_rss()
        self.backend_kb = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()

    def _sample(self) -> None:
        while self.postmaster is not None:
            for pid in _children(self.postmaster):
                self.backend_kb = max(self.backend_kb, _status_kb(pid, "RssAnon") or 0)
            if self._stop.wait(self.interval):
                return

    def peaks(self) -> dict[str, float | None]:
        own = _status_kb("self", "VmHWM")
        return {
            "python_peak_rss_mb": round(own / 1024, 1) if own is not None else None,
            "postgres_backend_peak_mb": (
                round(self.backend_kb / 1024, 1) if self.postmaster is not None else None
            ),
        }


def _reset_peak_rss() -> None:
    try:
        Path("/proc/self/clear_refs").write_text("5")  # 5: reset the peak RSS (VmHWM)
    except OSError:
        logger.debug("cannot reset the peak RSS: the stage's peak is the process's")


def _status_kb(pid: int | str, field: str) -> int | None:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith(f"{field}:"):
                return int(line.split()[1])
    except (OSError, ValueError):
        return None
    return None


def _children(parent: int) -> list[int]:
    pids = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                # The parent pid is the 4th field after the command (which may hold spaces).
                if int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1]) == parent:
                    pids.append(int(entry.name))
            except (OSError, ValueError, IndexError):
                continue
    return pids


def _postmaster_pid(url: str) -> int | None:
    """The server's postmaster, when it runs on this machine: the parent of our backend."""
    with psycopg.connect(url) as conn:
        row = conn.execute("select pg_backend_pid()").fetchone()
    stat = Path(f"/proc/{row[0] if row else 0}/stat")
    try:
        return int(stat.read_text().rsplit(")", 1)[1].split()[1])
    except (OSError, ValueError, IndexError):
        return None


@contextlib.contextmanager
def _publish_clock() -> Iterator[list[float]]:
    """When the audit of the repositories began (``mdm.publish.audit_and_publish``, which
    ``build_repositories`` calls after dbt built them): splits that stage in two."""
    from mdm import publish

    began: list[float] = []
    audit_and_publish = publish.audit_and_publish

    def clocked(*args: Any, **kwargs: Any) -> Any:
        began.append(time.perf_counter())
        return audit_and_publish(*args, **kwargs)

    publish.audit_and_publish = clocked
    try:
        yield began
    finally:
        publish.audit_and_publish = audit_and_publish


def change_delivery(url: str, landing: Path, delivery_id: str, rows: int) -> int:
    """A register delta (``gat_czrk``, CZBS = U) changing the address of ``rows`` current
    register records, chosen by a hash of their key; returns the rows written."""
    import csv
    import hashlib

    from mdm.registry import dataset

    if rows <= 0:
        return 0  # an empty file would be a rejected delivery, not a quiet day
    spec = dataset("gat_czrk")
    columns = spec.file_columns("delta")
    data_columns = [c for c in columns if c != "CZBS"]
    listed = ", ".join(c.lower() for c in data_columns)
    with psycopg.connect(url) as conn:
        current = conn.execute(
            f"select {listed} from (select distinct on (rybh) *"  # noqa: S608 - registry names
            " from raw.gat_czrk order by rybh, _delivery_id desc, _file desc, _line desc) r"
            " where _operation is distinct from 'D' order by md5(rybh) limit %s",
            (rows,),
        ).fetchall()
    address = data_columns.index("HJDZ_QHNXXDZ")
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(columns)
    for row in current:
        values = list(row)
        values[address] = f"{values[address] or ''}附{delivery_id[-6:]}"
        writer.writerow([*values, "U"] if columns[-1] == "CZBS" else values)
    data = buffer.getvalue().encode("utf-8")
    folder = landing / "gat_czrk" / delivery_id
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "part-all.csv").write_bytes(data)
    day = dt.datetime.strptime(delivery_id[:8], "%Y%m%d")  # noqa: DTZ007 - a date in the id
    manifest = {
        "dataset": "gat_czrk",
        "delivery_id": delivery_id,
        "provider": spec.provider,
        "extract_time": f"{day:%Y-%m-%d}T02:00:00+08:00",
        "mode": "delta",
        "encoding": "UTF-8",
        "files": [
            {
                "name": "part-all.csv",
                "rows": len(current),
                "sha256": hashlib.sha256(data).hexdigest(),
            }
        ],
    }
    (folder / "_manifest.json").write_text(json.dumps(manifest, ensure_ascii=False))
    return len(current)


def bench_daily(settings: Settings, persons: int) -> dict[str, Any]:
    """The daily chain's scenarios on a generated world, stage by stage.

    Day 1 from an empty landing zone to the published repositories (full resolution); a
    normal day (the generator's day 2, topped up with register changes to
    ``NORMAL_DAY_SHARE`` of all records); a day changing ``ONE_PERCENT_DAY_SHARE`` of all
    records; a day with nothing new (the chain stops at ``check_new_data``: counted from the
    first ingestion to that decision). Every stage calls what the DAG task calls; per stage
    the seconds, the peak memory and the ratio to day 1's.
    """
    import tempfile

    from mdm import build
    from mdm.ingest.files import ingest_file_drops
    from mdm.ingest.frontend import pull_frontend
    from mdm.registry import datasets
    from mdm_tools.generate import GenerateConfig, generate, write_all, write_frontend

    url = db.warehouse_url(settings)
    warehouse = params_from_url(url)
    frontend = params_from_url(db.frontend_url(settings))
    config = GenerateConfig(persons=persons, orgs=persons // 10, days=2, seed=5)
    _clean_slate(settings, url)
    watch = MemoryWatch(url)
    days: dict[str, Any] = {}
    with tempfile.TemporaryDirectory() as tmp:
        landing = Path(tmp) / "landing"
        summary = generate(config)
        write_all(summary, landing, Path(tmp) / "truth")
        write_frontend(db.frontend_url(settings), summary.frontend_rows)
        natural_day2 = sum(
            sum(d.rows.values()) for d in summary.deliveries if d.delivery_id.startswith("20261102")
        )
        del summary

        def run_day(name: str, day: int) -> dict[str, Any]:
            until = (config.start + dt.timedelta(days=day - 1)).strftime("%Y%m%d")
            run_id = f"bench-{name}"
            stages: dict[str, dict[str, Any]] = {}

            def stage(key: str, fn: Callable[[], Any]) -> Any:
                with watch:
                    seconds, value = _timed(fn)
                stages[key] = {"seconds": round(seconds, 2), **watch.peaks()}
                return value

            def ingest() -> None:
                for spec in datasets().values():
                    if spec.channel == "file":
                        ingest_file_drops(warehouse, landing, spec, run_id, until=until)
                    else:
                        pull_frontend(warehouse, frontend, spec, run_id)

            stage("ingest", ingest)
            decision = stage("check", partial(build.check_new_data, warehouse, run_id))
            result: dict[str, Any] = {
                "rows_loaded": sum(d["rows_loaded"] for d in decision["deliveries"]),
                "built": decision["build"],
                "stages": stages,
            }
            if decision["build"]:
                stage(
                    "observations", partial(build.build_observations, settings, warehouse, run_id)
                )
                result["resolution"] = stage(
                    "resolution", partial(build.resolve_entities, warehouse, run_id)
                )
                with _publish_clock() as published_at:
                    started = time.perf_counter()
                    stage(
                        "repositories",
                        partial(build.build_repositories, settings, warehouse, run_id),
                    )
                # Split the repositories stage where the audit began.
                both = stages.pop("repositories")
                split = (published_at[0] - started) if published_at else both["seconds"]
                stages["repositories"] = {**both, "seconds": round(split, 2)}
                stages["audit_publish"] = {**both, "seconds": round(both["seconds"] - split, 2)}
            result["seconds"] = round(sum(s["seconds"] for s in stages.values()), 2)
            return result

        days["day1"] = run_day("day1", 1)
        records = _count(
            url,
            "select (select count(*) from intermediate.int_person_observations)"
            " + (select count(*) from intermediate.int_organisation_observations)",
        )
        # A normal day: the generator's day 2, topped up with register changes to the share.
        target = round(records * NORMAL_DAY_SHARE)
        topped_up = change_delivery(url, landing, "20261102-90", max(0, target - natural_day2))
        days["normal_day"] = {"target_rows": target, "changes_added": topped_up}
        days["normal_day"] |= run_day("normal", 2)
        target = round(records * ONE_PERCENT_DAY_SHARE)
        days["one_percent_day"] = {"target_rows": target}
        change_delivery(url, landing, "20261103-01", target)
        days["one_percent_day"] |= run_day("1pct", 3)
        days["nothing_new_day"] = run_day("nothing-new", 4)
    full = days["day1"]["stages"]
    for name in ("normal_day", "one_percent_day", "nothing_new_day"):
        stages = days[name]["stages"]
        days[name]["ratio_to_day1"] = {
            key: round(stages[key]["seconds"] / full[key]["seconds"], 3)
            for key in stages
            if full.get(key, {}).get("seconds")
        }
    peak = [v for day in days.values() for s in day["stages"].values() for v in s.values()]
    return {
        "persons": persons,
        "records_after_day1": records,
        "days": days,
        "peak_memory_mb": max(v for v in peak if isinstance(v, float)),
        "warehouse_mb": _database_mb(url),
    }


def daily_table(result: dict[str, Any]) -> str:
    """The daily scenarios as a Markdown table: seconds per stage, the daily/full ratio, peaks."""
    days = result["days"]
    names = list(days)
    lines = [
        "| stage (seconds; ratio to day 1) | " + " | ".join(names) + " |",
        "|---|" + "---:|" * len(names),
    ]
    for stage in (*DAILY_STAGES, "total"):
        cells = []
        for name in names:
            day = days[name]
            if stage == "total":
                cells.append(f"**{day['seconds']}**")
                continue
            seconds = day["stages"].get(stage, {}).get("seconds")
            ratio = day.get("ratio_to_day1", {}).get(stage)
            cells.append(
                "not run" if seconds is None else f"{seconds}" + (f" ({ratio})" if ratio else "")
            )
        lines.append(f"| {stage} | " + " | ".join(cells) + " |")
    for peak in ("python_peak_rss_mb", "postgres_backend_peak_mb"):
        cells = [
            str(max((s.get(peak) or 0) for s in days[name]["stages"].values())) for name in names
        ]
        lines.append(f"| peak {peak.removesuffix('_mb')} (MB) | " + " | ".join(cells) + " |")
    lines.append("| rows loaded | " + " | ".join(str(days[n]["rows_loaded"]) for n in names) + " |")
    return "\n".join(lines)


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


def bench_credit(settings: Settings, lookups: int = 20) -> dict[str, Any]:
    """On the published world: the credit build, one enterprise's profile and explanation
    by credit code (issue 22's target: under 100 ms at 1M persons), the monthly push."""
    import statistics
    import tempfile

    from mdm.credit.explain import explain
    from mdm.credit.profile import build_credit
    from mdm.credit.push import monthly_push

    url = db.warehouse_url(settings)
    warehouse = params_from_url(url)
    build_s, detail = _timed(lambda: build_credit(settings, warehouse, "bench-credit"))
    with psycopg.connect(url) as conn:
        codes = [
            r[0]
            for r in conn.execute(
                "select uscc from credit.enterprise_profile where uscc is not null "
                "order by md5(uscc) limit %s",
                (lookups,),
            ).fetchall()
        ]
        profile_ms, explain_ms = [], []
        for code in codes:
            started = time.perf_counter()
            conn.execute("select * from credit.enterprise_profile where uscc = %s", (code,))
            profile_ms.append((time.perf_counter() - started) * 1000)
            started = time.perf_counter()
            explain(conn, code)
            explain_ms.append((time.perf_counter() - started) * 1000)
    with tempfile.TemporaryDirectory() as tmp:
        push_s, pushed = _timed(
            lambda: monthly_push(warehouse, Path(tmp), "bench-credit", force=True)
        )
    return {
        "build_s": round(build_s, 2),
        "profiles": detail.get("profiles"),
        "profile_lookup_ms_median": round(statistics.median(profile_ms), 2) if codes else None,
        "profile_lookup_ms_max": round(max(profile_ms), 2) if codes else None,
        "explain_ms_median": round(statistics.median(explain_ms), 2) if codes else None,
        "monthly_push_s": round(push_s, 2),
        "monthly_push_rows": pushed["rows"],
    }


def _size_label(persons: int) -> str:
    return f"{persons // 1_000_000}m" if persons % 1_000_000 == 0 else f"{persons // 1000}k"


def _record(
    results: dict[str, Any], key: str, value: Any, on_result: Callable[[str, Any], None] | None
) -> None:
    results[key] = value
    if on_result is not None:
        on_result(key, value)


def run_benchmarks(
    settings: Settings,
    pipeline_sizes: Sequence[int] = (100_000,),
    only_pipeline: bool = False,
    name: str = "latest",
    daily_sizes: Sequence[int] = (),
    only_daily: bool = False,
    on_result: Callable[[str, Any], None] | None = None,
) -> dict[str, Any]:
    """Every bench; the results file is rewritten after each one (a long run keeps its part).
    ``on_result(key, result)`` is called as each bench ends (``mdm bench`` shows a line)."""
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
    for persons in daily_sizes:
        logger.info("daily bench: %d persons", persons)
        _record(
            results,
            f"daily_{_size_label(persons)}_persons",
            bench_daily(settings, persons),
            on_result,
        )
        write_results(results, name=name)
        # On the world the four days left behind (issues 20 and 22's targets at this size).
        label = _size_label(persons)
        _record(results, f"credit_{label}_persons", bench_credit(settings), on_result)
        _record(
            results,
            f"certificate_list_{label}_persons",
            bench_certificate_list(settings),
            on_result,
        )
        write_results(results, name=name)
    if only_daily:
        return results
    if not only_pipeline:
        _record(results, "plain_copy_unindexed", bench_plain_copy(url), on_result)
        _record(results, "ingest_1m_row_csv_delivery", bench_ingest(url), on_result)
        _record(results, "dbt_build", bench_dbt_build(settings, url), on_result)
        _record(results, "generate_100k_persons", bench_generate(100_000), on_result)
    sizes = list(pipeline_sizes)
    if os.environ.get("MDM_BENCH_1M_PERSONS") and 1_000_000 not in sizes:
        sizes.append(1_000_000)  # long, and ~4.5 GB to generate: opt-in
    for persons in sizes:
        logger.info("pipeline bench: %d persons", persons)
        _record(
            results,
            f"pipeline_{_size_label(persons)}_persons",
            bench_pipeline(settings, persons),
            on_result,
        )
        _record(
            results,
            f"certificate_list_{_size_label(persons)}_persons",
            bench_certificate_list(settings),
            on_result,
        )
        # On the world just built: the credit profile (issue 22), then Splink on two engines.
        _record(
            results, f"credit_{_size_label(persons)}_persons", bench_credit(settings), on_result
        )
        # On the world just built: the same scoring on DuckDB and on Spark.
        _record(
            results,
            f"splink_backends_{_size_label(persons)}_persons",
            bench_splink_backends(settings),
            on_result,
        )
        write_results(results, name=name)
    return results


def write_results(
    results: dict[str, Any], folder: Path = RESULTS_DIR, name: str = "latest"
) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{name}.json"
    path.write_text(json.dumps(results, indent=2, ensure_ascii=False) + "\n")
    return path


def main(
    argv: Sequence[str] | None = None, on_result: Callable[[str, Any], None] | None = None
) -> int:
    import argparse

    parser = argparse.ArgumentParser(prog="python -m mdm_tools.bench", description=__doc__)
    parser.add_argument(
        "--pipeline-sizes",
        default="100000",
        help="comma-separated world sizes (persons) for the two-day pipeline bench",
    )
    parser.add_argument(
        "--only-pipeline",
        action="store_true",
        help="only the two-day pipeline bench: no micro-benches, no daily scenarios",
    )
    parser.add_argument(
        "--daily-sizes",
        default="100000",
        help="comma-separated world sizes (persons) for the daily scenarios (day 1, a normal "
        "day, a 1%% day, a day with nothing new); empty for none",
    )
    parser.add_argument(
        "--only-daily", action="store_true", help="only the daily scenarios (--daily-sizes)"
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
    daily = [int(size) for size in args.daily_sizes.split(",") if size.strip()]
    if args.only_pipeline:
        daily = []  # the two-day pipeline bench alone, as before the daily scenarios
    results = run_benchmarks(
        load_settings(), sizes, args.only_pipeline, args.name, daily, args.only_daily, on_result
    )
    path = write_results(results, name=args.name)
    sys.stdout.write(json.dumps(results, indent=2, ensure_ascii=False) + "\n")
    for key, value in results.items():
        if key.startswith("daily_"):
            sys.stdout.write(f"\n{key}\n{daily_table(value)}\n")
    logger.info("results written to %s", path)
    return 0


if __name__ == "__main__":
    sys.exit(main())
