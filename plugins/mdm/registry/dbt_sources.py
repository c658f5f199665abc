"""The dbt sources of the raw tables, rendered from the registry.

``mdm dbt-sources`` writes ``dbt_project/models/staging/raw/_raw__sources.yml``;
a unit test fails when the committed file and the registry disagree.
"""

from __future__ import annotations

import logging

from mdm.registry import datasets
from mdm.settings import DBT_PROJECT_DIR

logger = logging.getLogger(__name__)

SOURCES_FILE = DBT_PROJECT_DIR / "models" / "staging" / "raw" / "_raw__sources.yml"
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


def write_sources_yml() -> str:
    SOURCES_FILE.parent.mkdir(parents=True, exist_ok=True)
    SOURCES_FILE.write_text(render_sources_yml(), "utf-8")
    return str(SOURCES_FILE)
