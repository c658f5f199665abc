"""dbt files rendered from the registry: the raw sources and the dataset catalogue seed.

``mdm dbt-sources`` writes ``dbt_project/models/staging/raw/_raw__sources.yml`` and
``dbt_project/seeds/dataset_catalogue.csv``; a unit test fails when the committed
files and the registry disagree.
"""

from __future__ import annotations

import csv
import io
import logging
import re

from mdm.registry import datasets
from mdm.settings import DBT_PROJECT_DIR

logger = logging.getLogger(__name__)

SOURCES_FILE = DBT_PROJECT_DIR / "models" / "staging" / "raw" / "_raw__sources.yml"
CATALOGUE_SEED = DBT_PROJECT_DIR / "seeds" / "dataset_catalogue.csv"
COLUMNS_SEED = DBT_PROJECT_DIR / "seeds" / "dataset_columns.csv"
# Field names the province accepts: at most 30 characters, letters, digits and _, no Chinese.
FIELD_NAME = re.compile(r"^[A-Za-z][A-Za-z0-9_]{0,29}$")
CATALOGUE_FIELDS = ("resource_code", "share_type", "open_type", "update_cycle", "summary")
# Days after which a source is stale, from the cadence the department promised.
_STALE_AFTER_DAYS = {"daily": 2, "continuous": 2, "weekly": 9, "monthly": 35}


def render_sources_yml() -> str:
    lines = [
        "version: 2",
        "",
        "# Generated from plugins/mdm/registry/datasets.yaml by `mdm dbt-sources`: do not edit.",
        "sources:",
        "  - name: raw",
        "    description: Every delivered value as text, one partition per delivery (mdm/ingest).",
        "    schema: raw",
        "    tables:",
    ]
    for code, spec in datasets().items():
        cycle = spec.cadence.get("delta") or spec.cadence.get("pull") or spec.cadence["full"]
        days = _STALE_AFTER_DAYS.get(cycle, 35)
        loaded_at = (
            "to_timestamp(gxsj, 'YYYY-MM-DD HH24:MI:SS')"
            if spec.channel == "frontend_db"
            else "to_timestamp(left(_delivery_id, 8), 'YYYYMMDD')"
        )
        lines += [
            f"      - name: {code}",
            f'        description: "{spec.title} ({spec.provider}); '
            f'record key {"+".join(spec.record_key)}; cadence {cycle}"',
            f'        loaded_at_field: "{loaded_at}"',
            "        freshness:",
            f"          warn_after: {{count: {days}, period: day}}",
            f"          error_after: {{count: {days * 3}, period: day}}",
            "        columns:",
        ]
        for column in spec.columns:
            lines += [
                f"          - name: {column.name.lower()}",
                f'            description: "{column.meaning}"',
            ]
        lines += [
            "          - name: _delivery_id",
            '            description: "the delivery or pull (ops.delivery) the row came in"',
            "          - name: _file",
            "          - name: _line",
            "          - name: _operation",
            '            description: "F row of a full delivery; I/U/D of a delta or pull"',
        ]
    return "\n".join(lines) + "\n"


def render_catalogue_csv() -> str:
    """One row per dataset: department, promised cycle, and the static normativity facts."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(
        ["dataset", "title", "department", "channel", "cycle", "promised_days", "share_type",
         "columns_total", "columns_conforming", "catalogue_fields_total",
         "catalogue_fields_filled"]
    )  # fmt: skip
    for code, spec in datasets().items():
        cycle = spec.cadence.get("delta") or spec.cadence.get("pull") or spec.cadence["full"]
        writer.writerow(
            [
                code,
                spec.title,
                spec.department,
                spec.channel,
                cycle,
                {"daily": 1, "continuous": 1, "weekly": 7, "monthly": 31}.get(cycle, 31),
                spec.catalogue.get("share_type", ""),
                len(spec.columns),
                sum(bool(FIELD_NAME.match(c.name)) for c in spec.columns),
                len(CATALOGUE_FIELDS),
                sum(bool(str(spec.catalogue.get(f) or "").strip()) for f in CATALOGUE_FIELDS),
            ]
        )
    return buffer.getvalue()


def render_columns_csv() -> str:
    """One row per column the standard defines: whether it is required (completeness weighs
    it more), and whether a row always has it (record key, GXSJ, CZBS: not measured)."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(["dataset", "column_name", "required", "identity", "delta_only"])
    for code, spec in datasets().items():
        identity = {c.lower() for c in spec.record_key} | {"gxsj", "czbs"}
        for column in spec.columns:
            name = column.name.lower()
            writer.writerow(
                [code, name, str(column.required).lower(), str(name in identity).lower(),
                 str(column.delta_only).lower()]
            )  # fmt: skip
    return buffer.getvalue()


def write_sources_yml() -> str:
    SOURCES_FILE.parent.mkdir(parents=True, exist_ok=True)
    SOURCES_FILE.write_text(render_sources_yml(), "utf-8")
    CATALOGUE_SEED.write_text(render_catalogue_csv(), "utf-8")
    COLUMNS_SEED.write_text(render_columns_csv(), "utf-8")
    return f"{SOURCES_FILE}, {CATALOGUE_SEED}, {COLUMNS_SEED}"
