"""``mdm demo``: set everything up, run the daily chain for four days, show what it produced."""

from __future__ import annotations

import argparse
import dataclasses
import os
import shutil

from mdm import db
from mdm.cli.common import out, warehouse
from mdm.cli.pipeline import run_daily_chain
from mdm.cli.terminal import status, table
from mdm.cli.tools import evaluate_against_truth, generate_world, show_generated
from mdm.settings import Settings

DAYS = ("2026-11-01", "2026-11-02", "2026-11-03", "2026-11-04")
# Days 3 and 4 are generated after day 2 ran: the departments answer (jcfk) the correction
# requests the platform wrote to its outbox on days 1 and 2, and deliver corrected values.
ANSWERED_FROM = 3


def cmd_demo(settings: Settings, args: argparse.Namespace) -> int:
    from mdm import report
    from mdm_tools.generate import GenerateConfig

    out(f"== mdm demo (MDM_HOME={settings.home}; MDM_DEMO_PERSONS sets the world's size)")
    out("-- 1/4 database: server, databases (warehouse, airflow, frontend), migrations")
    with status("starting the database"):
        out("   " + db.prepare_database(settings))
    persons = int(os.environ.get("MDM_DEMO_PERSONS", "50000"))
    out(f"-- 2/4 department deliveries: {persons:,} persons, 2 days, with delivery defects")
    shutil.rmtree(settings.outbox_dir, ignore_errors=True)  # requests of an earlier demo
    config = GenerateConfig(
        persons=persons, orgs=max(1, persons // 10), days=2, seed=1, defects=True
    )
    with status(f"generating {persons:,} persons"):
        show_generated(generate_world(settings, config, None, frontend=True))
    unexpected: list[str] = []
    for number, day in enumerate(DAYS, start=1):
        if number == ANSWERED_FROM:
            out(f"-- 2/4 days {number}-{len(DAYS)}: the departments answer the correction requests")
            later = dataclasses.replace(
                config, days=len(DAYS), defects=False, outbox=settings.outbox_dir
            )
            with status("generating the answers"):
                show_generated(generate_world(settings, later, None, frontend=True))
        out(
            f"-- 3/4 the daily chain for {day} through Airflow (dag.test), as the scheduler runs it"
        )
        # The generator planted delivery defects on day 2: their DAGs fail in check_deliveries,
        # with ingestion itself green. Any other failure is a real one.
        unexpected += run_daily_chain(settings, until=day, detail="day").unexpected
    out("-- 4/4 what landed: the delivery ledger (ops.delivery) and the repositories (mdm)")
    _show_summary(report.summarise(warehouse(settings)))
    _show_certificate_rates(settings)
    with status("evaluating against the truth"):
        quality = evaluate_against_truth(settings, settings.home / "truth")
    for kind in ("person", "organisation"):
        r = quality[kind]
        out(
            f"   resolution vs truth, {kind:<12} precision {r['precision']:.4f} "
            f"recall {r['recall']:.4f} F1 {r['f1']:.4f} ({r['records']} records)"
        )
    r = quality["justice_person"]
    out(
        f"   resolution vs truth, {'justice':<12} precision {r['precision']:.4f} "
        f"recall {r['recall']:.4f} F1 {r['f1']:.4f} (persons of institutions and practitioners)"
    )
    for group, r in quality["links"].items():
        out(
            f"   record links vs truth, {group:<28} precision {r['precision']:.4f} "
            f"recall {r['recall']:.4f} ({r['records']} records)"
        )
    _show_credit_profile(settings)
    _show_open_data(settings)
    reports = sorted((settings.reports_dir).glob("quality-*.html"))
    if reports:
        out(f"Report:     {reports[-1]}")
    out(
        f"Query it:   psql '{db.display_url(settings, settings.warehouse_db)}'   "
        "(questions: docs/analyst-queries.md)"
    )
    out("Airflow UI: make airflow (menu MDM: report, dbt docs, Data Docs, Splink model, open data)")
    out("Stop the database: .venv/bin/mdm db stop")
    if unexpected:
        out(
            f"demo FAILED: {sorted(set(unexpected))} failed for a reason other than planted defects"
        )
        return 1
    return 0


def _show_certificate_rates(settings: Settings) -> None:
    """The e-certificate library's structured aggregation rate per type (ADR 0018)."""
    from mdm import certificates

    quarter, rows = certificates.rates(warehouse(settings))
    if rows:
        out(f"   certificates: structured aggregation rate {quarter} per type (target 80%):")
        for line in certificates.format_rate_table(rows, province_only=True):
            out("     " + line)


def _show_summary(summary: dict) -> None:
    table(
        ("dataset", ">deliveries", ">loaded", ">rejected", ">rows loaded", ">quarantined"),
        (
            (r["dataset"], r["deliveries"], r["loaded"], r["rejected"], r["rows_loaded"],
             r["rows_quarantined"])
            for r in summary["deliveries"]
        ),
    )  # fmt: skip
    out("   rejected deliveries (planted defects), with what to do:")
    for row in summary["rejected"]:
        out(f"   - {row['error']}")
    out("   repositories (schema mdm):")
    totals = summary["totals"]
    for key, label in (
        ("persons", "natural persons"),
        ("organisations", "legal persons"),
        ("relations", "relations"),
    ):
        out(f"   {label:<16} {totals.get(key, 0):>8}")
    for row in summary["relation_types"]:
        out(f"     {row['relation_type']:<22} {row['relations']:>6}")
    if summary["record_links"]:
        out("   record links (mdm.record_link: credit and certificate records -> their entity):")
        for row in summary["record_links"]:
            out(f"     {row['dataset']:<12} {row['links']:>8} ({row['by_name']} by name, address)")
    sample = summary["example_person"]
    if sample:
        out(
            f"   e.g. {sample['person_id']}: {sample['name']} (name from {sample['name_source']}), "
            f"born {sample['birth_date']} (from {sample['birth_date_source']}), mobile from "
            f"{sample['mobile_source']}, {sample['source_count']} source records"
        )
    out("   correction requests to the departments (correction.request), by state:")
    by_state: dict[str, int] = {}
    for row in summary["corrections"]:
        by_state[row["state"]] = by_state.get(row["state"], 0) + row["requests"]
    out("     " + (", ".join(f"{s} {n}" for s, n in sorted(by_state.items())) or "none"))
    per_department: dict[str, list[str]] = {}
    for row in summary["corrections"]:
        per_department.setdefault(row["department"], []).append(f"{row['state']} {row['requests']}")
    table(("department", "requests"), sorted(
        (d, ", ".join(states)) for d, states in per_department.items()
    ), indent=5)  # fmt: skip
    out("   data quality (schema quality), stars per department (goal: four):")
    table(
        ("department", "stars", ">quality index"),
        (
            (r["department"], "★" * r["stars"] + "☆" * (5 - r["stars"]), r["quality_index"])
            for r in summary["departments"]
        ),
        indent=5,
    )


def _show_credit_profile(settings: Settings) -> None:
    """信易贷: one enterprise's credit profile and its grade line by line (mdm credit explain)."""
    from mdm.credit.explain import explain, format_explanation

    with db.connect(db.warehouse_url(settings)) as conn:
        if conn.execute("select to_regclass('credit.evaluation')").fetchone() == (None,):
            return
        row = conn.execute(
            "select uscc from credit.evaluation join credit.enterprise_profile using "
            "(legal_person_id, uscc) where uscc is not null and penalties_36m_count > 0 "
            "order by registration_status = 'active' desc, "
            "enterprise_profile.stale_sources = '{}' desc, score, "
            "uscc limit 1"
        ).fetchone()
        if row is None:
            return
        explained = explain(conn, row[0])
    if explained:
        out(f"   credit profile (schema credit; `mdm credit explain {row[0]}`):")
        for line in format_explanation(explained):
            out(f"     {line}")


def _show_open_data(settings: Settings) -> None:
    """Publish the open resources (as DAG mdm_open does after a publish) and say where."""
    from mdm.cli.common import run_id
    from mdm.opendata.publish import build_open

    result = build_open(settings, warehouse(settings), run_id("demo__open"))
    if "skipped" in result:
        return
    rows = ", ".join(f"{p['key']} {p['rows']}" for p in result["resources"].values())
    out(f"   open resources {result['version']}: {rows}")
    out(f"Open data:  {result['folder']}")
