"""Browsable docs of the data, written into the shared folder after each build (issue 24).

- **dbt docs**: ``dbt docs generate --static`` (one self-contained HTML file: every model,
  column meaning, test, exposure and the lineage graph) copied to
  ``$MDM_SHARED_DIR/dbt-docs/index.html``.
- **Data Docs**: Great Expectations' own pages for the gates' and the publish audit's latest
  results, rendered by GX's site builder from the results stored in
  ``ops.validation_result`` (already scrubbed at validation: counts and shares, never a
  delivered value), under ``$MDM_SHARED_DIR/data-docs/``. GX's pages load Bootstrap, jQuery
  and its logo from public CDNs; a bureau's network has none of them and a reader's browser
  must not call out, so those references are replaced by a small inline stylesheet, and the
  index (a table GX fills with JavaScript from a CDN) is our own static page.
"""

from __future__ import annotations

import datetime as dt
import html
import logging
import os
import re
import shutil
from pathlib import Path
from typing import Any

import psycopg
from psycopg.rows import dict_row

from mdm.connections import ConnParams, conninfo
from mdm.settings import Settings
from mdm.views import data_docs_dir, dbt_docs_dir

logger = logging.getLogger(__name__)

# Per dataset and suite, the newest results kept in the Data Docs.
RESULTS_PER_SUITE = 3
SITE = "mdm"


def write_dbt_docs(settings: Settings, warehouse: ConnParams) -> Path:
    """``dbt docs generate --static`` into the dbt target; its single page to the shared
    folder (replaced whole, so a reader never sees half a file)."""
    from mdm.transform import run_dbt

    run_dbt(settings, warehouse, ["docs", "generate", "--static"])
    folder = dbt_docs_dir(settings)
    folder.mkdir(parents=True, exist_ok=True)
    partial = folder / "index.html.partial"
    shutil.copyfile(settings.dbt_target_dir / "static_index.html", partial)
    partial.replace(folder / "index.html")
    logger.info("dbt docs: %s", folder / "index.html")
    return folder / "index.html"


def latest_results(warehouse: ConnParams, per_suite: int = RESULTS_PER_SUITE) -> list[dict]:
    """The newest stored results per dataset and suite (the publish audit is dataset
    ``publish``, a suite per repository table)."""
    with psycopg.connect(conninfo(warehouse), row_factory=dict_row) as conn:
        return conn.execute(
            """select dataset, delivery_id, suite_name, success, evaluated, failed_critical,
                      failed_warning, result, validated_at
               from (select *, row_number() over (partition by dataset, suite_name
                                                  order by validated_at desc, delivery_id desc) n
                     from ops.validation_result) ranked
               where n <= %s
               order by dataset, suite_name, validated_at desc""",
            (per_suite,),
        ).fetchall()


def _parts(result: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """A stored result as GX describes a suite's run; the publish audit stores two (the
    whole table and the rows the publish would change)."""
    if "expectations" in result:
        return {"": result}
    return {part: r for part, r in result.items() if isinstance(r, dict) and "expectations" in r}


def _suite_result(row: dict[str, Any], part: str, described: dict[str, Any]) -> Any:
    from great_expectations.core import (
        ExpectationSuiteValidationResult,
        ExpectationValidationResult,
    )
    from great_expectations.core.run_identifier import RunIdentifier
    from great_expectations.expectations.expectation_configuration import (
        ExpectationConfiguration,
    )

    results = [
        ExpectationValidationResult(
            success=e.get("success"),
            expectation_config=ExpectationConfiguration(
                type=e["expectation_type"], kwargs=e.get("kwargs") or {}
            ),
            result=e.get("result") or {},
        )
        for e in described["expectations"]
        if e.get("expectation_type")
    ]
    run_id = RunIdentifier(run_name=row["delivery_id"], run_time=row["validated_at"])
    return ExpectationSuiteValidationResult(
        success=described.get("success", row["success"]),
        results=results,
        suite_name=row["suite_name"] + (f"_{part}" if part else ""),
        statistics=described.get("statistics") or {},
        meta={
            "run_id": run_id,
            "active_batch_definition": {
                "datasource_name": "warehouse",
                "data_asset_name": row["dataset"],
                "batch_definition_name": part or "delivery",
            },
        },
    ), run_id


_EXTERNAL = re.compile(
    r'<link[^>]+href="https?://[^"]*"[^>]*>|<script[^>]+src="https?://[^"]*"[^>]*>\s*</script>'
    r'|<img[^>]+src="https?://[^"]*"[^>]*>',
    re.IGNORECASE,
)
_STYLE = (
    "<style>body{font-family:'Noto Sans CJK SC',sans-serif;margin:1.5em;max-width:75em;"
    "color:#222}table{border-collapse:collapse}td,th{border-bottom:1px solid #ddd;"
    "padding:.25em .6em;text-align:left;vertical-align:top}.fail{color:#b00020}"
    ".ok{color:#1b5e20}nav,footer,.navbar{display:none}</style>"
)


def offline(page: str) -> str:
    """A GX page with its CDN stylesheets, scripts and logo removed, and our stylesheet."""
    return _EXTERNAL.sub("", page).replace("</head>", _STYLE + "</head>", 1)


def write_data_docs(settings: Settings, warehouse: ConnParams) -> Path:
    """Build the Data Docs site from the stored results; return its index."""
    os.environ.setdefault("GX_ANALYTICS_ENABLED", "false")
    logging.getLogger("great_expectations").setLevel(logging.WARNING)
    import great_expectations as gx
    from great_expectations.data_context.types.resource_identifiers import (
        ExpectationSuiteIdentifier,
        ValidationResultIdentifier,
    )

    rows = latest_results(warehouse)
    final = data_docs_dir(settings)
    building = final.with_name(final.name + ".building")
    shutil.rmtree(building, ignore_errors=True)
    context = gx.get_context(mode="ephemeral")
    context.add_data_docs_site(
        SITE,
        {
            "class_name": "SiteBuilder",
            "store_backend": {
                "class_name": "TupleFilesystemStoreBackend",
                "base_directory": str(building),
            },
            "site_index_builder": {"class_name": "DefaultSiteIndexBuilder"},
        },
    )
    listed = []
    for row in rows:
        for part, described in _parts(row["result"] or {}).items():
            suite_result, run_id = _suite_result(row, part, described)
            batch = re.sub(r"[^0-9A-Za-z_.-]", "_", f"{row['dataset']}-{row['delivery_id']}")
            key = ValidationResultIdentifier(
                expectation_suite_identifier=ExpectationSuiteIdentifier(
                    name=suite_result.suite_name
                ),
                run_id=run_id,
                batch_identifier=batch + (f"-{part}" if part else ""),
            )
            context.validation_results_store.set(key, suite_result)
            listed.append((row, part, suite_result, key))
    context.build_data_docs(site_names=[SITE])
    pages = {p.stem: p for p in (building / "validations").rglob("*.html")}
    for page in pages.values():
        page.write_text(offline(page.read_text("utf-8")), encoding="utf-8")
    (building / "index.html").write_text(index_page(listed, pages, building), encoding="utf-8")
    # Swap the finished site in (the old one out of the way first: a reader sees one or
    # the other, never a half-written site).
    old = final.with_name(final.name + ".old")
    shutil.rmtree(old, ignore_errors=True)
    if final.exists():
        final.rename(old)
    building.rename(final)
    shutil.rmtree(old, ignore_errors=True)
    logger.info("data docs: %d results, %s", len(listed), final / "index.html")
    return final / "index.html"


def index_page(listed: list[tuple[Any, ...]], pages: dict[str, Path], root: Path) -> str:
    """Our index of the Data Docs: a row per result, newest first within each suite."""
    body = []
    for row, _part, suite_result, key in listed:
        page = pages.get(key.batch_identifier)
        link = page.relative_to(root).as_posix() if page else None
        stats = suite_result.statistics or {}
        name = html.escape(suite_result.suite_name)
        state = ('<span class="ok">passed</span>' if suite_result.success
                 else '<span class="fail">failed</span>')  # fmt: skip
        when = row["validated_at"].astimezone(dt.UTC).strftime("%Y-%m-%d %H:%M UTC")
        suite = f'<a href="{html.escape(link)}">{name}</a>' if link else name
        body.append(
            f"<tr><td>{html.escape(row['dataset'])}</td><td>{suite}</td>"
            f"<td>{html.escape(row['delivery_id'])}</td><td>{when}</td><td>{state}</td>"
            f"<td>{stats.get('evaluated_expectations', row['evaluated'])}</td>"
            f"<td>{stats.get('unsuccessful_expectations', '')}</td></tr>"
        )
    return (
        '<!doctype html><html lang="zh-CN"><head><meta charset="utf-8">'
        f"<title>Data Docs: the gates' latest results</title>{_STYLE}</head><body>"
        "<h1>Data Docs: the gates' latest results</h1>"
        f"<p>Great Expectations results of the ingestion gates (critical), the profiles "
        f"(warnings) and the publish audit, the newest {RESULTS_PER_SUITE} per dataset and "
        "suite. Counts and shares only: no delivered value is stored or shown.</p>"
        "<table><tr><th>dataset</th><th>suite</th><th>delivery / run</th><th>validated</th>"
        "<th>state</th><th>expectations</th><th>failed</th></tr>"
        + "".join(body)
        + "</table></body></html>\n"
    )
